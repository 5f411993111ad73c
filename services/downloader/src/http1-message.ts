// HTTP/1.1 messages as the lean client (http1.ts) reads and writes them: the request text, the end and parse of a
// response head, how its body is framed (RFC 9112 §6.3), the server's keep-alive hint, and the chunked coding.
// Pure: no sockets here, so every odd response can be tested byte by byte.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** An error of the exchange, with a code the downloader classifies like the socket's own (ECONNRESET, ETIMEDOUT …). */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Response headers larger than this are refused (undici and Node allow 16 KB by default). */
export const MAX_HEADER_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const UNSAFE_HEADER = /[\r\n\0]/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^\d{1,15}$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

const bad = (message: string) => new HttpError('ERR_BAD_RESPONSE', message);

/** The header lines of a headers object, checked and written once for an object passed again and again. */
const headerTexts = new WeakMap<object, string>();

function headerText(headers: Dispatcher.DispatchOptions['headers']): string {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return '';
  let text = headerTexts.get(headers);
  if (text !== undefined) return text;
  text = '';
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (value === undefined) continue;
    const v = Array.isArray(value) ? value.join(', ') : String(value);
    if (!TOKEN.test(name) || UNSAFE_HEADER.test(v)) throw new TypeError(`invalid request header ${name}`);
    text += `${name}: ${v}\r\n`;
  }
  headerTexts.set(headers, text);
  return text;
}

/** A GET request's text; `host` as in the URL (with a port that is not the default). */
export function requestText(host: string, options: Pick<Dispatcher.DispatchOptions, 'path' | 'headers'>): string {
  const path = options.path;
  if (!path.startsWith('/') || UNSAFE_HEADER.test(path) || path.includes(' ')) {
    throw new TypeError(`invalid request path "${path.slice(0, 60)}"`);
  }
  return `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n${headerText(options.headers)}\r\n`;
}

/** Where the header block ends ("\r\n\r\n", or bare "\n\n" from a sloppy server), and the separator's length. */
export function headEnd(buf: Buffer, length: number): { at: number; length: number } | undefined {
  let from = 0;
  for (;;) {
    const nl = buf.indexOf(10, from);
    if (nl < 0 || nl >= length) return undefined;
    if (nl + 1 < length && buf[nl + 1] === 10) return { at: nl, length: 2 };
    if (nl + 2 < length && buf[nl + 1] === 13 && buf[nl + 2] === 10) {
      return buf[nl - 1] === 13 ? { at: nl - 1, length: 4 } : { at: nl, length: 3 };
    }
    from = nl + 1;
  }
}

export interface ParsedHead {
  minor: number;
  status: number;
  message: string;
  /** Names in lower case; a header sent more than once is an array. */
  headers: IncomingHttpHeaders;
}

/** The status line and headers (the text before the blank line). Throws an HttpError when it is not HTTP/1.x. */
export function parseHead(text: string): ParsedHead {
  const lines = text.split('\n');
  const statusLine = lines[0].endsWith('\r') ? lines[0].slice(0, -1) : lines[0];
  const m = STATUS_LINE.exec(statusLine);
  if (!m) throw bad(`not an HTTP/1.x status line: "${statusLine.slice(0, 60)}"`);
  const headers: IncomingHttpHeaders = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // a folded (obsolete) continuation line has no name either
    if (!TOKEN.test(name)) throw bad(`malformed response header line "${line.slice(0, 60)}"`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[key];
    if (had === undefined) headers[key] = value;
    else if (Array.isArray(had)) had.push(value);
    else headers[key] = [had, value];
  }
  return { minor: Number(m[1]), status: Number(m[2]), message: m[3] ?? '', headers };
}

/** A header's value, repeated ones joined with ", " as RFC 9110 allows. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** By a Content-Length (`length`), by the chunked coding, or by the end of the connection. */
export type Framing = 'length' | 'chunked' | 'close';

/** How the body of a response to a GET is framed (RFC 9112 §6.3). Throws on a Content-Length that cannot be trusted. */
export function bodyFraming(status: number, headers: IncomingHttpHeaders): { framing: Framing; length: number } {
  if (status === 204 || status === 304) return { framing: 'length', length: 0 };
  const transfer = header(headers, 'transfer-encoding');
  if (transfer !== undefined) {
    const codings = transfer.toLowerCase().split(',');
    return { framing: codings[codings.length - 1].trim() === 'chunked' ? 'chunked' : 'close', length: 0 };
  }
  const declared = headers['content-length'];
  if (declared === undefined) return { framing: 'close', length: 0 };
  if (typeof declared === 'string' && DIGITS.test(declared)) return { framing: 'length', length: Number(declared) };
  const values = (Array.isArray(declared) ? declared : [declared]).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (!values.every((v) => DIGITS.test(v) && v === values[0])) {
    throw bad(`invalid Content-Length "${values.join(', ').slice(0, 60)}"`);
  }
  return { framing: 'length', length: Number(values[0]) };
}

/** How long to keep a connection idle: ours, or less when the server says it closes sooner (a second's margin). */
export function keepAliveFor(hint: string | undefined, ours: number): number {
  const m = hint ? /(?:^|[,\s])timeout=(\d+)/i.exec(hint) : null;
  if (!m) return ours;
  return Math.min(ours, Number(m[1]) * 1000 - 1000);
}

enum ChunkState {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/** Undoes the chunked coding (RFC 9112 §7.1) of a body fed in pieces of any size; extensions and trailers are dropped. */
export class ChunkedDecoder {
  private state = ChunkState.Size;
  private left = 0;
  private line = '';

  /**
   * Hands each piece of chunk data in `data` to `onData` (views of `data`), which returns false to stop. Returns
   * where the message ended in `data` (after its trailers), or -1 when more is to come or `onData` stopped it.
   * Throws an HttpError on a malformed coding.
   */
  feed(data: Buffer, onData: (view: Buffer) => boolean): number {
    let i = 0;
    while (i < data.length) {
      switch (this.state) {
        case ChunkState.Size:
        case ChunkState.Trailer: {
          const nl = data.indexOf(10, i);
          const stop = nl < 0 ? data.length : nl;
          this.line += data.toString('latin1', i, stop);
          i = stop;
          if (this.line.length > MAX_CHUNK_LINE) throw bad('a chunk size or trailer line is too long');
          if (nl < 0) return -1;
          i++;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          if (this.state === ChunkState.Trailer) {
            if (line === '') return i;
            continue;
          }
          const hex = line.split(';', 1)[0].trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw bad(`bad chunk size line "${line.slice(0, 40)}"`);
          this.left = Number.parseInt(hex, 16);
          this.state = this.left === 0 ? ChunkState.Trailer : ChunkState.Data;
          break;
        }
        case ChunkState.Data: {
          const take = Math.min(this.left, data.length - i);
          const view = data.subarray(i, i + take);
          i += take;
          this.left -= take;
          if (this.left === 0) this.state = ChunkState.DataEnd;
          if (!onData(view)) return -1;
          break;
        }
        case ChunkState.DataEnd: {
          const c = data[i++];
          if (c === 13) break;
          if (c !== 10) throw bad('a chunk does not end with CRLF');
          this.state = ChunkState.Size;
          break;
        }
      }
    }
    return -1;
  }
}
