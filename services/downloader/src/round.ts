// One pass over the URL list. A listing of OUTPUT_DIR says which pictures are there; a first read classifies every
// line (invalid, duplicate, already done, failed and still waiting, to fetch) keeping only the line numbers to fetch; a
// second read hands those URLs to the downloads (or adopts a picture already there) with a bounded read-ahead. Memory
// grows with neither the list nor the downloads beyond the compact record index and listing.
import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { Logger } from '@image-search/log';
import { Progress } from '@image-search/log';
import { type PictureKey, pictureKey, type RecordFields } from '@image-search/picture-store';
import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { adoptStoredFile } from './adopt.ts';
import { type DownloadContext, downloadUrl, type StoredPicture } from './download.ts';
import { HostLimit } from './host-limit.ts';
import { KeyTable } from './key-table.ts';
import { downloadedBytes, downloadsFailed, picturesDownloaded, roundDuration } from './metrics.ts';
import { type RecordJournal, UrlState } from './records.ts';
import { StoredFiles } from './stored-files.ts';
import { listLines } from './url-list.ts';

export interface RoundOptions {
  urlFile: string;
  outputDir: string;
  maxConcurrency: number;
  perHostConcurrency: number;
  timeoutMs: number;
  /** MIN_BYTES_PER_SECOND: a download slower than this over any `rateWindowMs` fails (0: no minimum). */
  minBytesPerSecond: number;
  /** 10 s unless a test makes it short. */
  rateWindowMs?: number;
  maxBytes: number;
  maxRetries: number;
  retryFailedAfterMs: number;
  userAgent: string;
  /** First backoff wait before jitter (1 s); tests make it short. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  maxRetryAfterMs?: number;
  progressEveryMs?: number;
}

export interface RoundState {
  log: Logger;
  journal: RecordJournal;
  dispatcher: Dispatcher;
  /**
   * Called once a picture is in place (its journal line written): the one point where "a picture was stored" happens.
   * The download's slot is held until the returned promise settles; a rejection stops the round like a disk error.
   */
  onStored?: (picture: StoredPicture) => void | Promise<void>;
  stop: AbortSignal;
  abort: AbortSignal;
  /** Invalid lines already reported by this process (hashes of their text), so each is reported once. */
  reportedInvalid: KeyTable;
  /** Set while the list is missing, so the warning comes once and not every poll. */
  listMissing?: boolean;
  /** Told of every settled URL: what keeps the health check green during a long round. */
  heartbeat?: { progress(): void };
}

export interface RoundSummary {
  listMissing: boolean;
  /** Distinct URLs in the list. */
  urls: number;
  duplicates: number;
  invalid: number;
  alreadyThere: number;
  /** URLs recorded as done whose picture is gone from OUTPUT_DIR: fetched again. */
  missing: number;
  /** Pictures already in OUTPUT_DIR without a record, verified and recorded instead of fetched. */
  adopted: number;
  /** Permanent failures still inside RETRY_FAILED_AFTER. */
  waitingRetry: number;
  toFetch: number;
  new: number;
  failed: Record<string, number>;
  failedTotal: number;
  bytes: number;
  seconds: number;
  stopped: boolean;
}

class LineNumbers {
  private data = new Uint32Array(1024);
  length = 0;
  push(n: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = n;
  }
  at(i: number): number {
    return this.data[i];
  }
}

const MAX_INVALID_SHOWN = 20;

export async function runRound(opts: RoundOptions, state: RoundState): Promise<RoundSummary> {
  const { log, journal } = state;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const summary: RoundSummary = {
    listMissing: false,
    urls: 0,
    duplicates: 0,
    invalid: 0,
    alreadyThere: 0,
    missing: 0,
    adopted: 0,
    waitingRetry: 0,
    toFetch: 0,
    new: 0,
    failed: {},
    failedTotal: 0,
    bytes: 0,
    seconds: 0,
    stopped: false,
  };

  const stored = StoredFiles.list(opts.outputDir);
  // First read: classify.
  const toFetch = new LineNumbers();
  const seen = new KeyTable();
  const newlyInvalid: Array<{ line: number; text: string; why: string }> = [];
  let newlyInvalidCount = 0;
  const now = Date.now();
  try {
    for await (const { lineNo, line } of listLines(opts.urlFile)) {
      if (line.kind === 'skip') continue;
      if (line.kind === 'invalid') {
        summary.invalid++;
        const textKey = pictureKey(line.text);
        if (state.reportedInvalid.addIfAbsent(textKey)) {
          newlyInvalidCount++;
          if (newlyInvalid.length < MAX_INVALID_SHOWN) {
            newlyInvalid.push({ line: lineNo, text: line.text.slice(0, 200), why: line.why });
          }
        }
        continue;
      }
      const key = pictureKey(line.url);
      if (!seen.addIfAbsent(key)) {
        summary.duplicates++;
        continue;
      }
      summary.urls++;
      const st = journal.state(key);
      if (st === UrlState.Done) {
        if (stored.has(key)) summary.alreadyThere++;
        else {
          summary.missing++;
          toFetch.push(lineNo);
        }
      } else if (st === UrlState.FailedPermanent && now - journal.at(key) < opts.retryFailedAfterMs)
        summary.waitingRetry++;
      else toFetch.push(lineNo);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const message = `URL list ${opts.urlFile} does not exist (yet); will look again`;
    if (state.listMissing) log.debug({ urlFile: opts.urlFile }, message);
    else log.warn({ urlFile: opts.urlFile }, message);
    state.listMissing = true;
    summary.listMissing = true;
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  }
  state.listMissing = false;
  if (newlyInvalidCount > 0) {
    const more = newlyInvalidCount - newlyInvalid.length;
    log.warn(
      { urlFile: opts.urlFile, count: newlyInvalidCount, lines: newlyInvalid },
      `${newlyInvalidCount} invalid line(s) in the URL list, skipped: ${newlyInvalid
        .map((l) => `line ${l.line} (${l.why})`)
        .join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
    );
  }
  summary.toFetch = toFetch.length;
  // A round with nothing to fetch comes every POLL_SECONDS: its lines are worth reading only when debugging.
  const level = toFetch.length > 0 ? 'info' : 'debug';
  log[level](
    {
      urls: summary.urls,
      toFetch: summary.toFetch,
      alreadyThere: summary.alreadyThere,
      missing: summary.missing,
      waitingRetry: summary.waitingRetry,
      duplicates: summary.duplicates,
      invalid: summary.invalid,
      storedFiles: stored.size,
    },
    `round started: ${summary.toFetch} to fetch of ${summary.urls} URLs`,
  );

  if (toFetch.length > 0) await fetchAll(opts, state, stored, toFetch, summary);

  await journal.flush();
  if (await journal.compactIfWorthIt()) log.info({ records: journal.size }, 'record journal compacted');
  summary.stopped = state.stop.aborted;
  summary.seconds = Math.round((performance.now() - started) / 100) / 10;
  roundDuration.observe((performance.now() - started) / 1000);
  const cpu = process.cpuUsage(cpuAtStart);
  log[level](
    {
      new: summary.new,
      alreadyThere: summary.alreadyThere,
      missing: summary.missing,
      adopted: summary.adopted,
      waitingRetry: summary.waitingRetry,
      failed: summary.failed,
      failedTotal: summary.failedTotal,
      bytes: summary.bytes,
      seconds: summary.seconds,
      // CPU of the whole process during the round (all threads): on a shared machine a steadier cost than time
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
      urls: summary.urls,
      duplicates: summary.duplicates,
      invalid: summary.invalid,
      stopped: summary.stopped,
    },
    `round ${summary.stopped ? 'stopped' : 'finished'}: ${summary.new} new, ${summary.alreadyThere} already there, ` +
      `${summary.adopted} adopted, ` +
      `${summary.failedTotal} failed, ${(summary.bytes / 2 ** 20).toFixed(1)} MiB in ${summary.seconds} s`,
  );
  return summary;
}

/** Second read: download the numbered lines, at most a window of them queued at once. */
async function fetchAll(
  opts: RoundOptions,
  state: RoundState,
  stored: StoredFiles,
  lines: LineNumbers,
  summary: RoundSummary,
) {
  const { log, journal } = state;
  await mkdir(opts.outputDir, { recursive: true });
  const failure = new AbortController();
  const ctx: DownloadContext = {
    outputDir: opts.outputDir,
    dispatcher: state.dispatcher,
    userAgent: opts.userAgent,
    timeoutMs: opts.timeoutMs,
    minBytesPerSecond: opts.minBytesPerSecond,
    rateWindowMs: opts.rateWindowMs ?? 10_000,
    maxBytes: opts.maxBytes,
    maxRetries: opts.maxRetries,
    backoff: { baseMs: opts.backoffBaseMs ?? 1000, maxMs: opts.backoffMaxMs ?? 30_000 },
    maxRetryAfterMs: opts.maxRetryAfterMs ?? 60_000,
    hostLimit: new HostLimit(opts.perHostConcurrency),
    slots: pLimit(opts.maxConcurrency),
    journal,
    onStored: state.onStored,
    stop: AbortSignal.any([state.stop, failure.signal]),
    abort: AbortSignal.any([state.abort, failure.signal]),
  };
  // every download and backoff wait listens to these two
  setMaxListeners(0, ctx.stop, ctx.abort);
  const progress = new Progress(log, 'downloading', lines.length, Number.POSITIVE_INFINITY);
  const report = () =>
    log.info(
      { ...progress.snapshot(), new: summary.new, failed: summary.failedTotal, bytes: summary.bytes },
      `downloading: ${summary.new + summary.failedTotal}/${lines.length}`,
    );
  const timer = setInterval(report, opts.progressEveryMs ?? 5000);
  timer.unref();

  const window = Math.max(1024, opts.maxConcurrency * 32);
  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  let fatal: unknown;

  /** A picture already there under the URL's name (never one whose record says done: those are skipped). */
  const adopt = async (url: string, fileName: string): Promise<RecordFields | null> => {
    const adoption = await adoptStoredFile(opts.outputDir, fileName, url);
    if (adoption.adopted) {
      summary.adopted++;
      log.debug({ url, file: fileName }, 'adopted a picture already there');
      return adoption.record;
    }
    log.info({ url, file: fileName, why: adoption.why }, 'a file already there is not a picture; fetching the URL');
    return null;
  };

  const one = async (url: string, key: PictureKey): Promise<void> => {
    const storedName = stored.nameOf(key);
    const adopted = storedName === undefined ? null : await adopt(url, storedName);
    if (adopted) {
      journal.append(adopted);
      progress.add();
      return;
    }
    const record = await downloadUrl(url, key.stem, ctx);
    if (!record) return;
    if (record.status === 'done') {
      summary.new++;
      summary.bytes += record.bytes;
      picturesDownloaded.inc();
      downloadedBytes.inc(record.bytes);
      log.debug({ url, file: record.file, bytes: record.bytes, attempts: record.attempts }, 'stored');
    } else {
      summary.failedTotal++;
      const reason = record.error ?? 'unknown';
      summary.failed[reason] = (summary.failed[reason] ?? 0) + 1;
      downloadsFailed.inc({ reason });
      log.warn(
        { url, reason, detail: record.detail, attempts: record.attempts, finalUrl: record.final_url },
        `download failed: ${reason}`,
      );
    }
    progress.add();
  };

  try {
    let cursor = 0;
    for await (const { lineNo, line } of listLines(opts.urlFile)) {
      if (cursor >= lines.length || ctx.stop.aborted) break;
      if (lineNo !== lines.at(cursor)) continue;
      cursor++;
      // The list may have changed since the first read: check again what this line is.
      if (line.kind !== 'url') continue;
      const key = pictureKey(line.url);
      if (journal.state(key) === UrlState.Done && stored.has(key)) continue;
      while (running.size >= window) await new Promise<void>((resolve) => (wake = resolve));
      const task = one(line.url, key)
        .catch((err) => {
          fatal ??= err;
          failure.abort();
        })
        .finally(() => {
          state.heartbeat?.progress();
          running.delete(task);
          wake?.();
          wake = undefined;
        });
      running.add(task);
    }
    await Promise.all(running);
  } finally {
    clearInterval(timer);
  }
  if (fatal) throw fatal;
  report();
}
