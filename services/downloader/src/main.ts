// `pnpm downloader [--once]`: downloads every URL of URL_FILE into OUTPUT_DIR, then re-reads the list every
// POLL_SECONDS. SIGTERM/SIGINT: no new downloads; in-flight ones get a few seconds to finish, then are cut and cleaned.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { exitOnConfigError, loadDownloaderConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { serveMetrics } from '@image-search/metrics';
import { stateDir } from '@image-search/picture-store';
import { acquireFolderLock, FolderLockHeldError, Heartbeat, onShutdown } from '@image-search/process';
import { PicturePublisher, safeUrl } from '@image-search/work-queue';
import { announceStored } from './announce.ts';
import { createDispatcher } from './dispatcher.ts';
import { KeyTable } from './key-table.ts';
import { RecordJournal } from './records.ts';
import { runRound } from './round.ts';
import { removeStaleTemps } from './store.ts';

/** How long in-flight downloads may go on after SIGTERM (Docker waits 10 s before SIGKILL). */
const SHUTDOWN_GRACE_MS = 3000;

/** The proxies in use, for the log: credentials hidden. */
function describeProxies(config: { HTTP_PROXY?: string; HTTPS_PROXY?: string; NO_PROXY?: string }): string {
  const hide = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');
  return [
    config.HTTP_PROXY && `HTTP_PROXY=${hide(config.HTTP_PROXY)}`,
    config.HTTPS_PROXY && `HTTPS_PROXY=${hide(config.HTTPS_PROXY)}`,
    config.NO_PROXY && `NO_PROXY=${config.NO_PROXY}`,
  ]
    .filter(Boolean)
    .join(' ');
}

async function main(): Promise<void> {
  const { once } = parseArgs({ options: { once: { type: 'boolean', default: false } } }).values;
  const config = exitOnConfigError('downloader', () => loadDownloaderConfig());
  const log = createLogger('downloader', { level: config.LOG_LEVEL });
  const stop = new AbortController();
  const abort = new AbortController();
  // No new downloads at the first signal; in-flight ones are cut after the grace period or at a second signal.
  onShutdown({
    log,
    graceMs: SHUTDOWN_GRACE_MS,
    stop() {
      log.info('stopping: no new downloads, letting in-flight ones finish');
      stop.abort();
    },
    cut: () => abort.abort(),
  });

  await mkdir(stateDir(config.OUTPUT_DIR), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await acquireFolderLock(stateDir(config.OUTPUT_DIR), {
      file: 'lock',
      refusal: (holder, lock) =>
        `another downloader ${holder} is already writing to ${config.OUTPUT_DIR}; if that process is not a ` +
        `downloader, remove ${lock}`,
    });
  } catch (err) {
    if (!(err instanceof FolderLockHeldError)) throw err;
    log.error(err.message);
    process.exitCode = 1;
    return;
  }
  await serveMetrics({ port: config.METRICS_PORT, host: config.METRICS_HOST, log });
  const heartbeat = new Heartbeat(path.join(stateDir(config.OUTPUT_DIR), 'heartbeat.json'), {
    staleAfterMs: config.HEALTH_STALE_SECONDS * 1000,
  });
  heartbeat.idle();
  const proxied = Boolean(config.HTTP_PROXY || config.HTTPS_PROXY);
  const dispatcher = createDispatcher({
    perHostConcurrency: config.PER_HOST_CONCURRENCY,
    timeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
    httpProxy: config.HTTP_PROXY,
    httpsProxy: config.HTTPS_PROXY,
    noProxy: config.NO_PROXY,
  });
  try {
    const staleTemps = removeStaleTemps(config.OUTPUT_DIR);
    const { journal, unreadable } = await RecordJournal.open(config.OUTPUT_DIR);
    if (unreadable > 0) log.warn({ unreadable, file: journal.file }, 'unreadable lines in the record journal ignored');
    log.info(
      {
        urlFile: config.URL_FILE,
        outputDir: config.OUTPUT_DIR,
        records: journal.size,
        staleTempsRemoved: staleTemps,
        maxConcurrency: config.MAX_CONCURRENCY,
        perHostConcurrency: config.PER_HOST_CONCURRENCY,
        ...(proxied ? { proxy: describeProxies(config) } : {}),
        once,
      },
      'downloader started',
    );
    const publisher = config.QUEUE_URL
      ? await PicturePublisher.open(
          { url: config.QUEUE_URL, name: config.QUEUE_NAME, maxAttempts: config.QUEUE_MAX_ATTEMPTS },
          log,
        )
      : undefined;
    if (config.QUEUE_URL)
      log.info({ queue: config.QUEUE_NAME, url: safeUrl(config.QUEUE_URL) }, 'announcing stored pictures');
    const roundState = {
      log,
      journal,
      dispatcher,
      onStored: publisher && announceStored(publisher, log),
      stop: stop.signal,
      abort: abort.signal,
      reportedInvalid: new KeyTable(),
      heartbeat,
    };
    try {
      while (!stop.signal.aborted) {
        heartbeat.working();
        await runRound(
          {
            urlFile: config.URL_FILE,
            outputDir: config.OUTPUT_DIR,
            maxConcurrency: config.MAX_CONCURRENCY,
            perHostConcurrency: config.PER_HOST_CONCURRENCY,
            timeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
            minBytesPerSecond: config.MIN_BYTES_PER_SECOND,
            maxBytes: config.MAX_IMAGE_BYTES,
            maxRetries: config.MAX_RETRIES,
            retryFailedAfterMs: config.RETRY_FAILED_AFTER * 1000,
            userAgent: config.USER_AGENT,
          },
          roundState,
        );
        heartbeat.idle();
        if (once) break;
        await sleep(config.POLL_SECONDS * 1000, undefined, { signal: stop.signal }).catch(() => {});
      }
    } finally {
      await journal.close();
      await publisher?.close();
    }
    log.info('downloader stopped');
  } finally {
    await dispatcher.destroy();
    await heartbeat.stop();
    await release();
  }
}

main().catch((err) => {
  process.stderr.write(`downloader: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
