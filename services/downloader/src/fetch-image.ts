// One attempt at one URL: follows up to 5 redirects (http/https only), streams the body through any content or
// transfer coding into a temporary file, stops as soon as it is too large or plainly not an image, and says whether
// a failure is worth retrying. Timeouts are idle limits (no headers, or no body bytes, for REQUEST_TIMEOUT_SECONDS),
// like the original's `requests` timeout, so a big picture on a slow but steady link is not cut off.
import { closeSync, openSync, writevSync } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { type Dispatcher, request } from 'undici';
import { parseRetryAfter } from './backoff.ts';
import { SNIFF_BYTES, type Sniffed, sniffImage } from './sniff.ts';
import { tempPathFor } from './store.ts';

export const MAX_REDIRECTS = 5;

export interface FetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  /** Folder for the temporary file (OUTPUT_DIR, so the final rename is atomic). */
  tempDir: string;
  /** The file stem, used to name the temporary file. */
  stem: string;
  /** Aborting it stops the attempt; the temporary file is removed and the result is `aborted`. */
  signal?: AbortSignal;
}

export type ImageSniff = Extract<Sniffed, { kind: 'image' }>;

export type Attempt =
  | { ok: true; tmp: string; bytes: number; image: ImageSniff; finalUrl: string }
  | {
      ok: false;
      /** Short and stable, for summaries: http_404, timeout, html, too_large, redirect_loop … */
      reason: string;
      detail: string;
      retryable: boolean;
      retryAfterMs?: number;
      finalUrl: string;
    };

/** A failure decided while reading the body; carries its classification out of the stream pipeline. */
class Rejection extends Error {
  constructor(
    readonly reason: string,
    detail: string,
    readonly retryable = false,
  ) {
    super(detail);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function fail(reason: string, detail: string, retryable: boolean, finalUrl: string, retryAfterMs?: number): Attempt {
  return { ok: false, reason, detail, retryable, finalUrl, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** Decoders for Content-Encoding and Transfer-Encoding (minus chunked, which the HTTP parser undoes), outermost last. */
function decodersFor(codings: string[]): Transform[] {
  const out: Transform[] = [];
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') out.push(zlib.createGunzip());
    else if (coding === 'deflate') out.push(zlib.createInflate());
    else if (coding === 'br') out.push(zlib.createBrotliDecompress());
    else if (coding !== 'identity' && coding !== 'chunked') {
      throw new Rejection('bad_encoding', `unsupported content coding "${coding}"`);
    }
  }
  return out;
}

function codingsOf(headers: Record<string, string | string[] | undefined>): string[] {
  return [header(headers, 'content-encoding'), header(headers, 'transfer-encoding')]
    .flatMap((v) => (v ?? '').split(','))
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity' && s !== 'chunked');
}

const NETWORK_CODES: Record<string, string> = {
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  UND_ERR_SOCKET: 'connection_error',
  UND_ERR_CLOSED: 'connection_error',
  ECONNRESET: 'connection_error',
  ECONNREFUSED: 'connection_error',
  EPIPE: 'connection_error',
  EHOSTUNREACH: 'connection_error',
  ENETUNREACH: 'connection_error',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'truncated',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
};

/** Errors that are our machine's, not the URL's: they stop the round instead of being recorded against a URL. */
const LOCAL_CODES = new Set(['ENOSPC', 'EACCES', 'EROFS', 'EDQUOT', 'EMFILE', 'ENFILE', 'EPERM']);

function classify(err: unknown, finalUrl: string): Attempt {
  if (err instanceof Rejection) return fail(err.reason, err.message, err.retryable, finalUrl);
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code ?? '';
  if (LOCAL_CODES.has(code)) throw err;
  const message = e.cause?.message ? `${e.message}: ${e.cause.message}` : (e.message ?? String(err));
  const reason = NETWORK_CODES[code];
  if (reason) return fail(reason, message, true, finalUrl);
  if (
    code.startsWith('Z_') ||
    code.startsWith('ERR__') ||
    /zlib|incorrect header|unexpected end of file/i.test(message)
  ) {
    return fail('bad_encoding', message, true, finalUrl);
  }
  return fail('network', `${code ? `${code}: ` : ''}${message}`, true, finalUrl);
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err as Error)?.name === 'AbortError';
}

/** Reads a small body to its end so the connection can be reused; a large one is cut. */
async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump({ limit: 64 * 1024 }).catch(() => {});
}

function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

export class AbortedError extends Error {
  constructor() {
    super('download stopped');
    this.name = 'AbortedError';
  }
}

/** Downloads `url` once. Throws AbortedError when `signal` fires, and errors of the local disk; all else is a result. */
export async function fetchImageOnce(url: string, opts: FetchOptions): Promise<Attempt> {
  const visited = new Set<string>([new URL(url).href]);
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(current, {
        method: 'GET',
        dispatcher: opts.dispatcher,
        headers: { 'user-agent': opts.userAgent, accept: 'image/avif,image/webp,image/*;q=0.9,*/*;q=0.5' },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        signal: opts.signal,
      });
    } catch (err) {
      if (isAbort(err, opts.signal)) throw new AbortedError();
      return classify(err, current);
    }
    const status = res.statusCode;
    if (REDIRECTS.has(status)) {
      await drain(res.body);
      const location = header(res.headers, 'location');
      if (!location) return fail(`http_${status}`, `redirect ${status} without a Location header`, false, current);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        return fail('bad_redirect', `redirect to an invalid URL: ${location}`, false, current);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return fail('bad_redirect', `redirect to a ${next.protocol} URL (only http: and https:)`, false, current);
      }
      if (visited.has(next.href)) return fail('redirect_loop', `redirect loop back to ${next.href}`, false, current);
      if (hop >= MAX_REDIRECTS) {
        return fail('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`, false, current);
      }
      visited.add(next.href);
      current = next.href;
      continue;
    }
    if (status < 200 || status > 299) {
      await drain(res.body);
      const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
      const retryable = status === 429 || status === 408 || status >= 500;
      return fail(`http_${status}`, `HTTP ${status}`, retryable, current, retryable ? retryAfterMs : undefined);
    }
    return readBody(res, current, opts);
  }
}

/**
 * Bodies up to this size stay in memory and reach the disk in one synchronous write: on a fast link the thread-pool
 * round trips of a streamed write (open, a write per chunk, close) cost more than the bytes (measured ~2x slower on
 * loopback). Larger bodies stream to the temporary file, so memory stays bounded by MAX_CONCURRENCY × this.
 */
const IN_MEMORY_BYTES = 1024 * 1024;

function writeChunksSync(file: string, chunks: Buffer[]): void {
  const fd = openSync(file, 'wx');
  try {
    let written = 0;
    const total = chunks.reduce((sum, c) => sum + c.length, 0);
    // writev may write less than asked; go on from where it stopped
    while (written < total) {
      let skip = written;
      const rest: Buffer[] = [];
      for (const c of chunks) {
        if (skip >= c.length) skip -= c.length;
        else {
          rest.push(skip > 0 ? c.subarray(skip) : c);
          skip = 0;
        }
      }
      written += writevSync(fd, rest);
    }
  } finally {
    closeSync(fd);
  }
}

async function readBody(res: Dispatcher.ResponseData, finalUrl: string, opts: FetchOptions): Promise<Attempt> {
  let tmp: string | undefined;
  let fh: FileHandle | undefined;
  let bytes = 0;
  let image: ImageSniff | undefined;
  let held: Buffer[] = [];

  const decide = (): void => {
    const sniffed = sniffImage(held.length === 1 ? held[0] : Buffer.concat(held, bytes));
    if (sniffed.kind === 'rejected') throw new Rejection(sniffed.reason, sniffed.detail);
    image = sniffed;
  };
  const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) {
        throw new Rejection('too_large', `larger than MAX_IMAGE_BYTES (${opts.maxBytes} bytes)`);
      }
      if (fh) {
        await fh.write(chunk);
        continue;
      }
      held.push(chunk);
      if (!image && bytes >= SNIFF_BYTES) decide();
      if (bytes > IN_MEMORY_BYTES) {
        tmp = tempPathFor(opts.tempDir, opts.stem);
        fh = await open(tmp, 'wx');
        await fh.write(Buffer.concat(held, bytes));
        held = [];
      }
    }
    if (!image) decide();
  };

  const codings = codingsOf(res.headers);
  const declared = codings.length === 0 ? header(res.headers, 'content-length') : undefined;
  try {
    if (declared !== undefined && Number(declared) > opts.maxBytes) {
      throw new Rejection('too_large', `Content-Length ${declared} is over MAX_IMAGE_BYTES (${opts.maxBytes} bytes)`);
    }
    const decoders = decodersFor(codings);
    if (decoders.length === 0) await sink(res.body);
    else await (pipeline as (...s: unknown[]) => Promise<void>)(res.body, ...decoders, sink, { signal: opts.signal });
    if (declared !== undefined && Number(declared) !== bytes) {
      throw new Rejection('truncated', `got ${bytes} of ${declared} bytes`, true);
    }
    if (fh) {
      await fh.close();
      fh = undefined;
    } else {
      tmp = tempPathFor(opts.tempDir, opts.stem);
      writeChunksSync(tmp, held);
    }
    return { ok: true, tmp: tmp as string, bytes, image: image as ImageSniff, finalUrl };
  } catch (err) {
    discard(res.body);
    await fh?.close().catch(() => {});
    if (tmp) await rm(tmp, { force: true });
    if (isAbort(err, opts.signal)) throw new AbortedError();
    const result = classify(err, finalUrl);
    // A connection closed (or reset) before Content-Length bytes came: say how much was missing.
    if (!result.ok && result.reason === 'connection_error' && declared !== undefined && bytes < Number(declared)) {
      const detail = `connection closed after ${bytes} of ${declared} bytes (${result.detail})`;
      return fail('truncated', detail, true, finalUrl);
    }
    return result;
  }
}
