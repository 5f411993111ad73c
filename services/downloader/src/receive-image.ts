// One HTTP exchange through undici: a GET whose 200 body is decoded (at most MAX_CODINGS content codings) and streamed
// into a PictureFile. Every other
// status is an outcome of its own; a redirect's or error page's body is drained (up to a limit) so the connection can
// be reused.
import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import { type ImageSniff, PictureFile, Rejection } from './picture-file.ts';

export interface ReceiveOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  maxBytes: number;
  /** Folder for the temporary file (OUTPUT_DIR, so the final rename is atomic). */
  tempDir: string;
  /** The file stem, used to name the temporary file. */
  stem: string;
  /** Ends the exchange: its reason is the outcome's error. */
  signal: AbortSignal;
  /** Ends the exchange for `reason` (a server that will not answer). */
  cut: (reason: Rejection) => void;
  /** Told of every body chunk's size as it is taken (the minimum transfer rate watches it). */
  onBytes: (n: number) => void;
}

export type Exchange =
  | { kind: 'redirect'; status: number; location: string | undefined }
  /** Any status but 200 and the redirects. */
  | { kind: 'status'; status: number; retryAfter: string | undefined; detail?: string }
  /** `closeDelimited`: only the connection's close ended the body, so only the picture can say it is whole. */
  | { kind: 'image'; tmp: string; bytes: number; image: ImageSniff; contentId: string; closeDelimited: boolean }
  /** `bytes` of `declared` (Content-Length, when the body had no coding) had come when it failed. */
  | { kind: 'error'; error: unknown; bytes: number; declared: number | undefined };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ACCEPT = 'image/avif,image/webp,image/*;q=0.9,*/*;q=0.5';
/** curl stops at 5 as well; a header listing thousands would otherwise build thousands of decoders. */
export const MAX_CODINGS = 5;
/** Informational (1xx) responses taken before the real one; a server sending more is not answering. */
export const MAX_INFORMATIONAL = 10;
/** An error page or redirect body longer than this is cut (closing the connection) instead of read to its end. */
const DRAIN_LIMIT = 64 * 1024;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
}

/** Decoders for the codings (chunked is undone by the HTTP parser), in the order they must be applied. */
function decodersFor(headers: IncomingHttpHeaders): Transform[] {
  const codings = [
    ...listOf(header(headers, 'content-encoding')),
    ...listOf(header(headers, 'transfer-encoding')).filter((c) => c !== 'chunked'),
  ];
  if (codings.length > MAX_CODINGS) {
    throw new Rejection('bad_encoding', `${codings.length} content codings (at most ${MAX_CODINGS} are decoded)`);
  }
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return zlib.createGunzip();
    if (coding === 'deflate') return zlib.createInflate();
    if (coding === 'br') return zlib.createBrotliDecompress();
    throw new Rejection('bad_encoding', `unsupported content coding "${coding}"`);
  });
}

/** A body that ends only when the connection closes: neither a length nor chunked framing says where it ends. */
function closeDelimited(headers: IncomingHttpHeaders): boolean {
  return headers['content-length'] === undefined && !listOf(header(headers, 'transfer-encoding')).includes('chunked');
}

/** Sends one GET for `url` and receives its response. Never rejects: every outcome, failures included, is a value. */
export async function receiveImage(url: URL, opts: ReceiveOptions): Promise<Exchange> {
  let informational = 0;
  const { signal } = opts;
  let response: Dispatcher.ResponseData;
  try {
    response = await opts.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { 'user-agent': opts.userAgent, accept: ACCEPT },
      signal,
      onInfo: ({ statusCode }) => {
        if (++informational <= MAX_INFORMATIONAL) return;
        const detail = `more than ${MAX_INFORMATIONAL} informational responses (the last ${statusCode}) and no answer`;
        opts.cut(new Rejection(`http_${statusCode}`, detail, true));
      },
    });
  } catch (error) {
    return { kind: 'error', error: signal.reason ?? error, bytes: 0, declared: undefined };
  }
  const { statusCode: status, headers, body } = response;
  if (status !== 200) {
    await body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
    if (REDIRECTS.has(status)) return { kind: 'redirect', status, location: header(headers, 'location') };
    return { kind: 'status', status, retryAfter: header(headers, 'retry-after') };
  }
  const file = new PictureFile(opts.tempDir, opts.stem, opts.maxBytes, opts.onBytes);
  const length = header(headers, 'content-length');
  const declared = length === undefined || headers['content-encoding'] ? undefined : Number(length);
  try {
    if (declared !== undefined && declared > opts.maxBytes) {
      throw new Rejection('too_large', `Content-Length ${declared} is over MAX_IMAGE_BYTES (${opts.maxBytes} bytes)`);
    }
    const decoders = decodersFor(headers);
    await pipeline([body, ...decoders, file], { signal });
    return {
      kind: 'image',
      tmp: file.tmp as string,
      bytes: file.bytes,
      image: file.image as ImageSniff,
      contentId: file.contentId(),
      closeDelimited: closeDelimited(headers),
    };
  } catch (error) {
    // refused before the pipeline took the body (its length, its codings): cut it; its abort error tells no one news
    body.on('error', () => {}).destroy();
    await file.discard();
    return { kind: 'error', error: signal.reason ?? error, bytes: file.bytes, declared };
  }
}
