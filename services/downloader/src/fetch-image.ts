// One attempt at one URL: follows up to 5 redirects (http/https only), receives the body (receive-image.ts) and says
// whether a failure is worth retrying. Timeouts are idle limits (no headers, or no body bytes, for
// REQUEST_TIMEOUT_SECONDS), like the original's `requests` timeout, so a big picture on a slow but steady link is not
// cut off.
import { parseRetryAfter } from './backoff.ts';
import { AbortedError, type ImageSniff, type ReceiveOptions, Rejection, receiveImage } from './receive-image.ts';

export { AbortedError, type ImageSniff };

export const MAX_REDIRECTS = 5;

export type FetchOptions = ReceiveOptions;

export type Attempt =
  | { ok: true; body?: Buffer[]; lent?: number; tmp?: string; bytes: number; image: ImageSniff; finalUrl: string }
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
  /** A response that is not valid HTTP/1.1 (http1.ts). */
  ERR_BAD_RESPONSE: 'bad_response',
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

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || err instanceof AbortedError || (err as Error)?.name === 'AbortError';
}

/** Downloads `url` once. Throws AbortedError when `signal` fires, and errors of the local disk; all else is a result. */
export async function fetchImageOnce(url: URL, opts: FetchOptions): Promise<Attempt> {
  const visited = new Set<string>([url.href]);
  let current = url;
  for (let hop = 0; ; hop++) {
    const got = await receiveImage(current, opts);
    const at = current.href;
    switch (got.kind) {
      case 'image':
        return {
          ok: true,
          body: got.body,
          lent: got.lent,
          tmp: got.tmp,
          bytes: got.bytes,
          image: got.image,
          finalUrl: at,
        };
      case 'status': {
        const retryable = got.status === 429 || got.status === 408 || got.status >= 500;
        const retryAfterMs = retryable ? parseRetryAfter(got.retryAfter) : undefined;
        return fail(`http_${got.status}`, `HTTP ${got.status}`, retryable, at, retryAfterMs);
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
