// One URL from start to finish: attempts with exponential backoff and jitter (honouring Retry-After), each attempt
// inside a per-host slot and then a global slot; a verified download is recorded in the journal (where the embedder
// finds its source URL) and then put in place by the file writer thread before the slot is given back, so bodies
// waiting for the disk stay bounded by MAX_CONCURRENCY.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordFields } from '@image-search/picture-store';
import type { LimitFunction } from 'p-limit';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { AbortedError, type Attempt, fetchImageOnce } from './fetch-image.ts';
import type { FileWriter } from './file-writer.ts';
import type { HostLimit } from './host-limit.ts';
import type { ImageDispatcher } from './receive-image.ts';
import type { RecordJournal } from './records.ts';

export interface DownloadContext {
  outputDir: string;
  dispatcher: ImageDispatcher;
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  maxRetries: number;
  backoff: BackoffOptions;
  /** A Retry-After longer than this is not waited for in this round (the URL is tried again next round). */
  maxRetryAfterMs: number;
  hostLimit: HostLimit;
  slots: LimitFunction;
  writer: FileWriter;
  journal: RecordJournal;
  /** Fired on shutdown: no new attempt starts and backoff waits end. */
  stop: AbortSignal;
  /** Fired when in-flight downloads must end now: they are cut and their temporary files removed. */
  abort: AbortSignal;
}

/** The outcome, already appended to the journal; null when the download was stopped before it had one. */
export async function downloadUrl(url: string, stem: string, ctx: DownloadContext): Promise<RecordFields | null> {
  const parsed = new URL(url);
  const host = parsed.host;
  let last: Extract<Attempt, { ok: false }> | undefined;
  let attempts = 0;
  for (let retry = 0; retry <= ctx.maxRetries; retry++) {
    if (ctx.stop.aborted) return null;
    attempts++;
    let result: Attempt | RecordFields;
    try {
      result = await ctx.hostLimit.run(host, () => ctx.slots(() => attempt(url, parsed, stem, attempts, ctx)));
    } catch (err) {
      if (err instanceof AbortedError) return null;
      throw err;
    }
    if (!('ok' in result)) return result;
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
  const record: RecordFields = {
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
  ctx.journal.append(record);
  return record;
}

/** One attempt, in its slots: a failure to judge, or the record of a picture now in place. */
async function attempt(
  url: string,
  parsed: URL,
  stem: string,
  attempts: number,
  ctx: DownloadContext,
): Promise<Extract<Attempt, { ok: false }> | RecordFields> {
  if (ctx.stop.aborted) throw new AbortedError();
  const result = await fetchImageOnce(parsed, {
    dispatcher: ctx.dispatcher,
    userAgent: ctx.userAgent,
    timeoutMs: ctx.timeoutMs,
    maxBytes: ctx.maxBytes,
    tempDir: ctx.outputDir,
    stem,
    signal: ctx.abort,
    arena: ctx.writer.arena,
  });
  return result.ok ? commit(url, stem, result, attempts, ctx) : result;
}

async function commit(
  url: string,
  stem: string,
  result: Extract<Attempt, { ok: true }>,
  attempts: number,
  ctx: DownloadContext,
): Promise<RecordFields> {
  const file = `${stem}${result.image.ext}`;
  const record: RecordFields = {
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
    at: new Date().toISOString(),
  };
  // Written before the picture appears (the writer has the journal write its lines before it sends a batch), so
  // whoever sees the picture finds its line. Should the rename fail, the round stops (a full or read-only disk) and
  // the next one fetches again a picture recorded done but not there.
  try {
    ctx.journal.append(record);
  } catch (err) {
    if (result.lent !== undefined) ctx.writer.arena?.release(result.lent);
    throw err;
  }
  // the writer removes (and gives back) what it was given when it fails
  await ctx.writer.commit({
    outputDir: ctx.outputDir,
    fileName: file,
    body: result.body,
    lent: result.lent,
    tmp: result.tmp,
  });
  return record;
}
