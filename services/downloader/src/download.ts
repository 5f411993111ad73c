// One URL from start to finish: attempts with exponential backoff and jitter (honouring Retry-After), each attempt
// inside a per-host slot and then a global slot; a verified download is moved into place with its sidecar.
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { AbortedError, type Attempt, fetchImageOnce } from './fetch-image.ts';
import type { HostLimit } from './host-limit.ts';
import type { UrlRecord } from './records.ts';
import { commitDownload } from './store.ts';

export interface DownloadContext {
  outputDir: string;
  dispatcher: Dispatcher;
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  maxRetries: number;
  backoff: BackoffOptions;
  /** A Retry-After longer than this is not waited for in this round (the URL is tried again next round). */
  maxRetryAfterMs: number;
  hostLimit: HostLimit;
  slots: LimitFunction;
  /** Fired on shutdown: no new attempt starts and backoff waits end. */
  stop: AbortSignal;
  /** Fired when in-flight downloads must end now: they are cut and their temporary files removed. */
  abort: AbortSignal;
}

/** A record to keep, or null when the download was stopped before it had an outcome. */
export async function downloadUrl(url: string, stem: string, ctx: DownloadContext): Promise<UrlRecord | null> {
  const parsed = new URL(url);
  const host = parsed.host;
  let last: Extract<Attempt, { ok: false }> | undefined;
  let attempts = 0;
  for (let retry = 0; retry <= ctx.maxRetries; retry++) {
    if (ctx.stop.aborted) return null;
    attempts++;
    let result: Attempt;
    try {
      result = await ctx.hostLimit.run(host, () =>
        ctx.slots(() =>
          ctx.stop.aborted
            ? Promise.reject(new AbortedError())
            : fetchImageOnce(parsed, {
                dispatcher: ctx.dispatcher,
                userAgent: ctx.userAgent,
                timeoutMs: ctx.timeoutMs,
                maxBytes: ctx.maxBytes,
                tempDir: ctx.outputDir,
                stem,
                signal: ctx.abort,
              }),
        ),
      );
    } catch (err) {
      if (err instanceof AbortedError) return null;
      throw err;
    }
    if (result.ok) return commit(url, stem, result, attempts, ctx);
    last = result;
    if (!result.retryable || retry === ctx.maxRetries) break;
    if (result.retryAfterMs !== undefined && result.retryAfterMs > ctx.maxRetryAfterMs) break;
    const wait = Math.max(result.retryAfterMs ?? 0, backoffDelay(retry, ctx.backoff));
    try {
      await sleep(wait, undefined, { signal: ctx.stop });
    } catch {
      return null;
    }
  }
  const failure = last as Extract<Attempt, { ok: false }>;
  return {
    key: stem,
    status: 'failed',
    url,
    file: null,
    bytes: 0,
    content_type: null,
    final_url: failure.finalUrl,
    attempts,
    error: failure.reason,
    detail: failure.detail,
    permanent: !failure.retryable,
    at: new Date().toISOString(),
  };
}

async function commit(
  url: string,
  stem: string,
  result: Extract<Attempt, { ok: true }>,
  attempts: number,
  ctx: DownloadContext,
): Promise<UrlRecord> {
  const file = `${stem}${result.image.ext}`;
  const at = new Date().toISOString();
  try {
    commitDownload(ctx.outputDir, result.tmp, file, {
      url,
      final_url: result.finalUrl,
      content_type: result.image.mime,
      bytes: result.bytes,
      fetched_at: at,
    });
  } catch (err) {
    await rm(result.tmp, { force: true });
    throw err;
  }
  return {
    key: stem,
    status: 'done',
    url,
    file,
    bytes: result.bytes,
    content_type: result.image.mime,
    final_url: result.finalUrl,
    attempts,
    error: null,
    detail: null,
    permanent: false,
    at,
  };
}
