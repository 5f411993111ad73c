// One attempt at one URL: follows up to 5 redirects (http/https only), receives the body (receive-image.ts) and says
// whether a failure is worth retrying. The attempt has one deadline (REQUEST_TIMEOUT_SECONDS for all of it, redirects
// included) and a minimum transfer rate, so no server can hold a download, or the round, for longer.
import { rm } from 'node:fs/promises';
import { parseRetryAfter } from './backoff.ts';
import { type ImageSniff, Rejection } from './picture-file.ts';
import { type ReceiveOptions, receiveImage } from './receive-image.ts';
import { incompleteBecause } from './whole-picture.ts';

export const MAX_REDIRECTS = 5;

export interface FetchOptions extends Omit<ReceiveOptions, 'signal' | 'cut' | 'onBytes'> {
  /** The whole attempt, from the request to the last byte of the last redirect's body. */
  timeoutMs: number;
  /** Fewer bytes than this a second, over any `rateWindowMs`, and the attempt fails (0: no minimum). */
  minBytesPerSecond: number;
  rateWindowMs: number;
  /** Aborting it cuts the attempt (its temporary file removed): the outcome is an AbortedError. */
  signal: AbortSignal;
}

export class AbortedError extends Error {
  constructor() {
    super('download stopped');
    this.name = 'AbortedError';
  }
}

export type Attempt =
  | {
      ok: true;
      tmp: string;
      bytes: number;
      image: ImageSniff;
      contentId: string;
      finalUrl: string;
      /** Only the connection's close ended the body. */
      closeDelimited: boolean;
    }
  | {
      ok: false;
      /** Short and stable, for summaries: http_404, timeout, html, too_large, redirect_loop … */
      reason: string;
      detail: string;
      retryable: boolean;
      retryAfterMs?: number;
      finalUrl: string;
    };

type Failure = Extract<Attempt, { ok: false }>;

function fail(reason: string, detail: string, retryable: boolean, finalUrl: string, retryAfterMs?: number): Failure {
  return { ok: false, reason, detail, retryable, finalUrl, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
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
  /** A response that is not valid HTTP/1.1. */
  HPE_INVALID_CONSTANT: 'bad_response',
  HPE_INVALID_STATUS: 'bad_response',
  HPE_INVALID_HEADER_TOKEN: 'bad_response',
  HPE_INVALID_CHUNK_SIZE: 'bad_response',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'bad_response',
  HPE_HEADER_OVERFLOW: 'bad_response',
  UND_ERR_HEADERS_OVERFLOW: 'bad_response',
};

/** Certificate problems: trying again within the round will not help, so they wait RETRY_FAILED_AFTER. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Errors that are our machine's, not the URL's: they stop the round instead of being recorded against a URL. */
const LOCAL_CODES = new Set(['ENOSPC', 'EACCES', 'EROFS', 'EDQUOT', 'EMFILE', 'ENFILE', 'EPERM']);

function classify(err: unknown, finalUrl: string): Failure {
  if (err instanceof Rejection) return fail(err.reason, err.message, err.retryable, finalUrl);
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code ?? '';
  if (LOCAL_CODES.has(code)) throw err;
  const message = e.cause?.message ? `${e.message}: ${e.cause.message}` : (e.message ?? String(err));
  if (TLS_CODES.has(code)) return fail('tls', `${code}: ${message}`, false, finalUrl);
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

/** Cut by shutdown, not by one of the attempt's own limits (whose reasons are Rejections). */
function isAbort(err: unknown, signal: AbortSignal): boolean {
  if (err instanceof Rejection) return false;
  return signal.aborted || err instanceof AbortedError || (err as Error)?.name === 'AbortError';
}

/** Downloads `url` once. Throws AbortedError when `signal` fires, and errors of the local disk; all else is a result. */
export async function fetchImageOnce(url: URL, opts: FetchOptions): Promise<Attempt> {
  // one controller for everything that can end the attempt: shutdown, the deadline, the rate, the server's 1xx storm
  const limits = new AbortController();
  const onShutdown = () => limits.abort(opts.signal.reason);
  if (opts.signal.aborted) onShutdown();
  else opts.signal.addEventListener('abort', onShutdown, { once: true });
  const seconds = opts.timeoutMs / 1000;
  const deadline = setTimeout(() => {
    limits.abort(new Rejection('timeout', `not complete within REQUEST_TIMEOUT_SECONDS (${seconds} s)`, true));
  }, opts.timeoutMs);
  let windowBytes = 0;
  const rateCheck =
    opts.minBytesPerSecond > 0
      ? setInterval(() => {
          const rate = (windowBytes * 1000) / opts.rateWindowMs;
          windowBytes = 0;
          if (rate >= opts.minBytesPerSecond) return;
          const detail = `${Math.round(rate)} bytes/s over ${opts.rateWindowMs / 1000} s, under MIN_BYTES_PER_SECOND (${opts.minBytesPerSecond})`;
          limits.abort(new Rejection('too_slow', detail, true));
        }, opts.rateWindowMs)
      : undefined;
  const receive: ReceiveOptions = {
    ...opts,
    signal: limits.signal,
    cut: (reason) => limits.abort(reason),
    onBytes: (n) => {
      windowBytes += n;
    },
  };
  let result: Attempt;
  try {
    result = await followRedirects(url, receive);
  } finally {
    clearTimeout(deadline);
    clearInterval(rateCheck);
    opts.signal.removeEventListener('abort', onShutdown);
  }
  return result.ok && result.closeDelimited ? checkWhole(result) : result;
}

/** A body that only the connection's close ended: whole only if the picture's own structure says so. */
async function checkWhole(got: Extract<Attempt, { ok: true }>): Promise<Attempt> {
  const why = await incompleteBecause(got.tmp, got.bytes, got.image.format);
  if (!why) return got;
  await rm(got.tmp, { force: true });
  return fail('truncated', `the connection closed before the picture ended: ${why}`, true, got.finalUrl);
}

async function followRedirects(url: URL, opts: ReceiveOptions): Promise<Attempt> {
  const visited = new Set<string>([url.href]);
  let current = url;
  for (let hop = 0; ; hop++) {
    const got = await receiveImage(current, opts);
    const at = current.href;
    switch (got.kind) {
      case 'image':
        return { ok: true, ...got, finalUrl: at };
      case 'status': {
        const retryable = got.status === 429 || got.status === 408 || got.status >= 500;
        const retryAfterMs = retryable ? parseRetryAfter(got.retryAfter) : undefined;
        const detail = got.status >= 200 && got.status < 300 ? `HTTP ${got.status}, not 200` : `HTTP ${got.status}`;
        return fail(`http_${got.status}`, detail, retryable, at, retryAfterMs);
      }
      case 'error': {
        if (isAbort(got.error, opts.signal)) throw new AbortedError();
        const result = classify(got.error, at);
        // A connection closed (or reset) before Content-Length bytes came: say how much was missing.
        if (result.reason === 'connection_error' && got.declared !== undefined && got.bytes < got.declared) {
          const detail = `connection closed after ${got.bytes} of ${got.declared} bytes (${result.detail})`;
          return fail('truncated', detail, true, at);
        }
        return result;
      }
    }
    const { status, location } = got;
    if (!location) return fail(`http_${status}`, `redirect ${status} without a Location header`, false, at);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return fail('bad_redirect', `redirect to an invalid URL: ${location}`, false, at);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      return fail('bad_redirect', `redirect to a ${next.protocol} URL (only http: and https:)`, false, at);
    }
    if (visited.has(next.href)) return fail('redirect_loop', `redirect loop back to ${next.href}`, false, at);
    if (hop >= MAX_REDIRECTS) return fail('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`, false, at);
    visited.add(next.href);
    current = next;
  }
}
