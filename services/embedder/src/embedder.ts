// The embedder as a function: start the image tower, make sure the model's index exists, then run rounds until stopped.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { type ClipModel, exportHash, preprocessOptionsFor } from '@image-search/clip';
import type { EmbedderConfig } from '@image-search/config';
import type { Logger } from '@image-search/log';
import { acquireFolderLock, FolderLockHeldError, type Heartbeat, WorkerDiedError } from '@image-search/process';
import {
  bulkWrite,
  type Client,
  createClient,
  ensureModelIndex,
  existingIds,
  type IndexSpec,
  type ModelSource,
  recordFilling,
  recordModelSource,
  untilAvailable,
  waitForCluster,
} from '@image-search/search-index';
import { type BatchConsumer, consumeBatches, safeUrl } from '@image-search/work-queue';
import { embedDelivered, type QueueBatchDeps } from './consume.ts';
import { poolSizeFor, startDecodePool } from './decode-pool.ts';
import { type ImageTower, startImageTower } from './image-tower.ts';
import {
  countedUntilAvailable,
  inferenceQueueDepth,
  picturesEmbedded,
  picturesFailed,
  picturesInFolder,
  roundDuration,
} from './metrics.ts';
import { type RoundSummary, runRound } from './round.ts';
import { StateStore } from './state.ts';

export const THUMBNAIL_MAX_SIZE = 256;

export type EmbedderSettings = Pick<
  EmbedderConfig,
  | 'modelDir'
  | 'stateDir'
  | 'DEVICE'
  | 'MODEL_THREADS'
  | 'ES_HOST'
  | 'ES_INDEX'
  | 'ES_API_KEY'
  | 'ES_USERNAME'
  | 'ES_PASSWORD'
  | 'ES_CA_CERT'
  | 'HNSW_M'
  | 'HNSW_EF'
  | 'VECTOR_INDEX_TYPE'
  | 'ES_SHARDS'
  | 'ES_REPLICAS'
  | 'IMAGES_DIR'
  | 'THUMBNAILS_DIR'
  | 'BATCH_SIZE'
  | 'POLL_SECONDS'
  | 'MAX_IMAGE_PIXELS'
  | 'QUEUE_URL'
  | 'QUEUE_NAME'
  | 'QUEUE_MAX_ATTEMPTS'
  | 'EMBEDDER_SCAN'
>;

export interface RunOptions {
  logger: Logger;
  /** One scan round, then return (a consume-only worker runs until stopped). */
  once?: boolean;
  /** Stops between rounds (and cuts the wait short). */
  signal?: AbortSignal;
  /** An already loaded model, run on this thread (tests share one); otherwise modelDir's, in a worker thread. */
  model?: ClipModel;
  onRound?(summary: RoundSummary): void;
  /** Kept fresh while waiting and by every embedded batch during a round (for the container's health check). */
  heartbeat?: Heartbeat;
}

/** How often an embedder filling a new index (the alias still on the old one) records its progress there. */
const FILLING_REPORT_MS = 10_000;

export function indexSpecFor(s: EmbedderSettings, model: Pick<ClipModel, 'manifest'>, source?: ModelSource): IndexSpec {
  const m = model.manifest;
  return {
    source,
    alias: s.ES_INDEX,
    model: `${m.name}/${m.pretrained}`,
    dims: m.embedDim,
    hnswM: s.HNSW_M,
    hnswEf: s.HNSW_EF,
    vectorIndexType: s.VECTOR_INDEX_TYPE,
    shards: s.ES_SHARDS,
    replicas: s.ES_REPLICAS,
  };
}

export async function runEmbedder(s: EmbedderSettings, opts: RunOptions): Promise<RoundSummary[]> {
  // Before anything else: a second embedder on the same state would corrupt it, and should learn that at once.
  // With a work queue, the one holding STATE_DIR scans the folder and every other one only consumes the queue.
  await mkdir(s.stateDir, { recursive: true });
  let releaseLock: (() => Promise<void>) | undefined;
  if (!s.QUEUE_URL || s.EMBEDDER_SCAN) {
    try {
      releaseLock = await acquireFolderLock(s.stateDir, {
        file: 'embedder.lock',
        refusal: (holder, _lock, staleSeconds) =>
          `another embedder ${holder} is using STATE_DIR ${s.stateDir}; give each embedder its own STATE_DIR, or stop ` +
          `the other one (a lock left by a crashed embedder elsewhere frees itself ${staleSeconds} s after its last ` +
          'touch; on this host at once)',
      });
    } catch (err) {
      if (!(s.QUEUE_URL && err instanceof FolderLockHeldError)) throw err;
      opts.logger.info({ stateDir: s.stateDir }, 'another embedder scans the folder; this one consumes the queue only');
    }
  }
  opts.heartbeat?.idle();
  try {
    return await embedUntilStopped(s, opts, releaseLock !== undefined);
  } finally {
    await opts.heartbeat?.stop();
    await releaseLock?.();
  }
}

async function embedUntilStopped(s: EmbedderSettings, opts: RunOptions, scan: boolean): Promise<RoundSummary[]> {
  const { logger } = opts;
  const t0 = performance.now();
  const tower: ImageTower = opts.model
    ? {
        dir: opts.model.dir,
        manifest: opts.model.manifest,
        provider: opts.model.provider,
        embed: (b) => opts.model!.image.embed(b),
        close: async () => {},
      }
    : await startImageTower(s.modelDir, { device: s.DEVICE, threads: s.MODEL_THREADS || undefined });
  const m = tower.manifest;
  logger.info(
    {
      model: `${m.name}/${m.pretrained}`,
      provider: tower.provider,
      dims: m.embedDim,
      ms: Math.round(performance.now() - t0),
    },
    'image tower ready',
  );
  const client: Client = createClient(s);
  const summaries: RoundSummary[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const source: ModelSource = {
      name: m.name,
      pretrained: m.pretrained,
      dir: tower.dir,
      exportHash: await exportHash(tower.dir),
    };
    const spec = indexSpecFor(s, tower, source);
    await waitForCluster(client, { timeoutMs: Number.POSITIVE_INFINITY, logger });
    const { index, created, aliasPointsHere } = await untilAvailable(client, logger, 'ensure index', async () => {
      const ensured = await ensureModelIndex(client, spec);
      if (!ensured.created) await recordModelSource(client, ensured.index, source);
      return ensured;
    });
    logger.info(
      { index, created, alias: spec.alias, aliasPointsHere, model: spec.model, dims: spec.dims },
      'index ready',
    );

    await mkdir(s.THUMBNAILS_DIR, { recursive: true });

    const decoders = startDecodePool(
      {
        ...preprocessOptionsFor(tower.manifest),
        maxPixels: s.MAX_IMAGE_PIXELS,
        thumbnail: { maxSize: THUMBNAIL_MAX_SIZE },
      },
      poolSizeFor(tower.provider),
    );
    closers.push(() => decoders.close());
    logger.info({ workers: decoders.size, provider: tower.provider }, 'decode workers started');
    // While the alias serves another model's index, the API shows how far this one has come.
    let files = 0;
    const reportFilling = () => {
      if (files === 0) return;
      recordFilling(client, index, files).catch((err) =>
        logger.warn({ err: (err as Error).message, index }, 'could not record re-indexing progress'),
      );
    };
    const filling = aliasPointsHere ? undefined : setInterval(reportFilling, FILLING_REPORT_MS);
    filling?.unref();
    closers.push(async () => clearInterval(filling));

    const embed = async (batch: Float32Array[]) => {
      inferenceQueueDepth.inc();
      try {
        const vectors = await tower.embed(batch);
        picturesEmbedded.inc(batch.length);
        opts.heartbeat?.progress();
        return vectors;
      } finally {
        inferenceQueueDepth.dec();
      }
    };
    const es = countedUntilAvailable(client, logger);
    const pipeline: QueueBatchDeps = {
      imagesDir: s.IMAGES_DIR,
      thumbnailsDir: s.THUMBNAILS_DIR,
      batchSize: s.BATCH_SIZE,
      model: spec.model,
      preprocess: (data) => decoders.preprocess(data),
      embed,
      write: (ops) => es('bulk write', () => bulkWrite(client, index, ops)),
      existing: (ids) => es('existing ids', () => existingIds(client, index, ids)),
      logger,
      concurrency: Math.max(4, 2 * decoders.size),
    };
    const consumer = s.QUEUE_URL ? await consumeQueue(s, opts, pipeline) : undefined;
    if (consumer) closers.unshift(() => consumer.close());
    if (!scan) {
      await untilAborted(opts.signal, consumer);
      return summaries;
    }

    const stateFile = path.join(s.stateDir, `${index}.jsonl`);
    // A journal for an index that was just (re)created would claim documents that are not there.
    if (created) await rm(stateFile, { force: true });
    const store = await StateStore.open(stateFile);
    while (!opts.signal?.aborted) {
      let summary: RoundSummary;
      opts.heartbeat?.working();
      try {
        summary = await runRound({
          imagesDir: s.IMAGES_DIR,
          thumbnailsDir: s.THUMBNAILS_DIR,
          batchSize: s.BATCH_SIZE,
          client,
          spec,
          index,
          store,
          preprocess: (data) => decoders.preprocess(data),
          concurrency: Math.max(4, 2 * decoders.size),
          onScanned: (n) => {
            files = n;
            picturesInFolder.set(n);
            if (filling) reportFilling();
          },
          embed,
          logger,
        });
      } catch (err) {
        opts.heartbeat?.idle();
        // One bad round (a full disk, a refused request) is retried at the next poll; --once reports it and stops.
        if (opts.once || err instanceof WorkerDiedError) throw err;
        logger.error({ err }, 'round failed; retrying after POLL_SECONDS');
        await sleep(s.POLL_SECONDS * 1000, opts.signal);
        continue;
      }
      opts.heartbeat?.idle();
      picturesFailed.inc(summary.failed);
      roundDuration.observe(summary.durationMs / 1000);
      if (summary.promoted) clearInterval(filling);
      summaries.push(summary);
      opts.onRound?.(summary);
      // A round with nothing to do comes every POLL_SECONDS: worth a line only when debugging.
      if (summary.candidates > 0 || summary.deletedPaths > 0 || summary.promoted)
        logger.info(summary, 'round finished');
      else logger.debug(summary, 'round finished: nothing new');
      if (opts.once) break;
      await sleep(s.POLL_SECONDS * 1000, opts.signal);
    }
  } finally {
    for (const close of closers) await close();
    await client.close();
    await tower.close();
  }
  return summaries;
}

/** Consumes the work queue in the background, one batch at a time; a dead model worker stops the embedder. */
async function consumeQueue(s: EmbedderSettings, opts: RunOptions, pipeline: QueueBatchDeps): Promise<QueueConsumer> {
  const { logger } = opts;
  let fatal: unknown;
  const failed = new AbortController();
  const settings = { url: s.QUEUE_URL!, name: s.QUEUE_NAME, maxAttempts: s.QUEUE_MAX_ATTEMPTS };
  const consumer: BatchConsumer = await consumeBatches(settings, {
    batchSize: s.BATCH_SIZE,
    logger,
    handle: async (batch) => {
      opts.heartbeat?.working();
      try {
        const t0 = performance.now();
        const outcomes = await embedDelivered(pipeline, batch);
        const done = outcomes.filter((o) => o.status === 'done').length;
        logger.debug({ pictures: batch.length, done, ms: Math.round(performance.now() - t0) }, 'queue batch settled');
        return outcomes;
      } catch (err) {
        if (err instanceof WorkerDiedError) {
          fatal = err;
          failed.abort();
        }
        throw err;
      } finally {
        opts.heartbeat?.idle();
      }
    },
  });
  logger.info(
    { queue: s.QUEUE_NAME, url: safeUrl(settings.url), batch: s.BATCH_SIZE, batchesInFlight: 2 },
    'consuming the work queue',
  );
  return { close: () => consumer.close(), failed: failed.signal, fatal: () => fatal };
}

interface QueueConsumer {
  close(): Promise<void>;
  /** Aborted when the model worker died under a batch. */
  failed: AbortSignal;
  fatal(): unknown;
}

/** Resolves when the embedder is told to stop; throws what killed the consumer, if something did. */
async function untilAborted(signal: AbortSignal | undefined, consumer: QueueConsumer | undefined): Promise<void> {
  const signals = [signal, consumer?.failed].filter((x): x is AbortSignal => x !== undefined);
  if (signals.length > 0) {
    const any = AbortSignal.any(signals);
    if (!any.aborted) await new Promise((resolve) => any.addEventListener('abort', resolve, { once: true }));
  }
  if (consumer?.fatal()) throw consumer.fatal();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
