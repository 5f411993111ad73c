// One URL from start to finish: attempts with exponential backoff and jitter (honouring Retry-After), each attempt
// inside a per-host slot and then a global slot. A verified download is recorded in the journal (where the embedder
// finds its source URL), renamed into place, and then announced through `onStored`.
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pictureFileName, type RecordFields } from '@image-search/picture-store';
import type { LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { AbortedError, type Attempt, fetchImageOnce } from './fetch-image.ts';
import type { HostLimit } from './host-limit.ts';
import type { RecordJournal } from './records.ts';

/** A picture now in place under OUTPUT_DIR, its journal line written. */
export interface StoredPicture {
  /** sha256 of its bytes, hex: the id the embedder gives it. */
  contentId: string;
  /** Its file name in OUTPUT_DIR. */
  file: string;
  /** The URL it was listed under. */
  url: string;
  record: RecordFields;
}

export interface DownloadContext {
  outputDir: string;
  dispatcher: Dispatcher;
  userAgent: string;
  timeoutMs: number;
  minBytesPerSecond: number;
  rateWindowMs: number;
  maxBytes: number;
  maxRetries: number;
  backoff: BackoffOptions;
  /** A Retry-After longer than this is not waited for in this round (the URL is tried again next round). */
  maxRetryAfterMs: number;
  hostLimit: HostLimit;
  slots: LimitFunction;
  journal: RecordJournal;
  /** Called once a picture is in place; the download's slot is held until it returns. */
  onStored?: (picture: StoredPicture) => void | Promise<void>;
  /** Fired on shutdown: no new attempt starts and backoff waits end. */
  stop: AbortSignal;
  /** Fired when in-flight downloads must end now: they are cut and their temporary files removed. */
  abort: AbortSignal;
}

type Failure = Extract<Attempt, { ok: false }>;

/** The outcome, already appended to the journal; null when the download was stopped before it had one. */
export async function downloadUrl(url: string, stem: string, ctx: DownloadContext): Promise<RecordFields | null> {
  const parsed = new URL(url);
  const host = parsed.host;
  let last: Failure | undefined;
  let attempts = 0;
  for (let retry = 0; retry <= ctx.maxRetries; retry++) {
    if (ctx.stop.aborted) return null;
    attempts++;
    let result: Failure | RecordFields;
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
  const failure = last as Failure;
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
): Promise<Failure | RecordFields> {
  if (ctx.stop.aborted) throw new AbortedError();
  const result = await fetchImageOnce(parsed, {
    dispatcher: ctx.dispatcher,
    userAgent: ctx.userAgent,
    timeoutMs: ctx.timeoutMs,
    minBytesPerSecond: ctx.minBytesPerSecond,
    rateWindowMs: ctx.rateWindowMs,
    maxBytes: ctx.maxBytes,
    tempDir: ctx.outputDir,
    stem,
    signal: ctx.abort,
  });
  return result.ok ? store(url, stem, result, attempts, ctx) : result;
}

async function store(
  url: string,
  stem: string,
  result: Extract<Attempt, { ok: true }>,
  attempts: number,
  ctx: DownloadContext,
): Promise<RecordFields> {
  const file = pictureFileName(stem, result.image.ext);
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
  // The line is written before the picture appears, so whoever sees the picture finds its line. Should the rename fail
  // (a full or read-only disk), the round stops, and the next one fetches again a picture recorded done but not there.
  try {
    ctx.journal.append(record);
    ctx.journal.writeAppended();
    await rename(result.tmp, path.join(ctx.outputDir, file));
  } catch (err) {
    await rm(result.tmp, { force: true });
    throw err;
  }
  await ctx.onStored?.({ contentId: result.contentId, file, url, record });
  return record;
}
