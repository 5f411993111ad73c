// When to try again: exponential backoff with jitter, and the server's Retry-After when it gives one.

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** No single wait is longer than this. */
  maxMs: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

/**
 * Delay before retry number `retry` (0 for the first retry): base·2^retry capped at maxMs, then "equal jitter"
 * (half fixed, half random) so waits still grow while a crowd of failures does not retry in lockstep.
 */
export function backoffDelay(retry: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, retry));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
