// Work-queue overhead (issue 19): one embedder worker fed by RabbitMQ vs the folder scan, same photos, same model.
// Both run as `pnpm embedder` does (image tower in its worker thread, decode pool, bulk writes); the queue worker gets
// one "picture stored" message per photo (published beforehand, as the downloader would) with a prefetch of one batch per batch in flight (two).
// Chunks alternate scan and queue so both see the same background load; each side is timed from its first batch to the
// Elasticsearch acknowledgement of its last (model loading excluded on both sides).
// `pnpm exec tsx bench/queue.ts [--quick]` (needs Elasticsearch at ES_HOST and Debian's rabbitmq-server).
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureSyntheticModel } from '@image-search/clip';
import { startLocalRabbitMq } from '@image-search/local-rabbitmq';
import { createLogger } from '@image-search/log';
import { type Client, createClient } from '@image-search/search-index';
import { PicturePublisher } from '@image-search/work-queue';
import { type RunOptions, runEmbedder } from '../services/embedder/src/embedder.ts';
import { freePort } from '../test/free-port.ts';
import { deleteIndices, photoFolder, settings } from './embedder.ts';
import { runIfMain } from './standalone.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ES_HOST = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
const BATCH = 32;
const logger = createLogger('bench-queue', { level: process.env.LOG_LEVEL ?? 'warn' });
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function count(client: Client, alias: string): Promise<number> {
  if (!(await client.indices.exists({ index: alias }))) return 0;
  await client.indices.refresh({ index: alias });
  return (await client.count({ index: alias })).count;
}

/** The time between the worker's first batch and the acknowledgement of the batch that completed `expected`. */
async function queueRun(
  s: ReturnType<typeof settings>,
  client: Client,
  expected: number,
): Promise<{ ms: number; indexed: number }> {
  const stop = new AbortController();
  let first = 0;
  let lastSettled = 0;
  // The embedder's heartbeat hears of every queue batch: working() as it starts, idle() once it is settled.
  const heartbeat = {
    idle: () => {
      lastSettled = performance.now();
    },
    working: () => {
      first ||= performance.now();
    },
    progress: () => {},
    stop: async () => {},
  };
  const running = runEmbedder(s, {
    logger,
    signal: stop.signal,
    heartbeat: heartbeat as unknown as RunOptions['heartbeat'],
  });
  let indexed = 0;
  try {
    for (;;) {
      indexed = await count(client, s.ES_INDEX);
      if (indexed >= expected) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    stop.abort();
    await running;
  }
  return { ms: lastSettled - first, indexed };
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const n = opts.quick ? 128 : 512;
  const chunks = opts.quick ? 2 : 4;
  const client = createClient({ ES_HOST });
  const modelDir = await ensureSyntheticModel('rn50', path.join(os.tmpdir(), 'image-search-models', 'rn50'));
  const photos = await photoFolder(n);
  const names = (await readdir(photos)).filter((f) => f.endsWith('.jpg')).sort();
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-queue-'));
  const mq = process.env.QUEUE_URL
    ? { url: process.env.QUEUE_URL, stop: async () => {} }
    : await startLocalRabbitMq({ port: 10_000 + ((await freePort()) % 20_000), dataDir: path.join(root, 'mq') });
  const tag = randomBytes(4).toString('hex');
  const scan = { images: path.join(root, 'scan'), alias: `bench-queue-scan-${tag}` };
  const queued = { images: path.join(root, 'queued'), alias: `bench-queue-worker-${tag}` };
  const queue = { url: mq.url, name: `bench-${tag}`, maxAttempts: 3 };
  await mkdir(scan.images, { recursive: true });
  await mkdir(queued.images, { recursive: true });
  const publisher = await PicturePublisher.open(queue, logger);
  let scanMs = 0;
  let queueMs = 0;
  const ratios: number[] = [];
  try {
    for (let c = 0; c < chunks; c++) {
      const chunk = names.slice(Math.floor((c * n) / chunks), Math.floor(((c + 1) * n) / chunks));
      const done = Math.floor(((c + 1) * n) / chunks);

      await Promise.all(chunk.map((f) => link(path.join(photos, f), path.join(scan.images, f))));
      const [round] = await runEmbedder(settings(root, scan.images, scan.alias, modelDir), { logger, once: true });
      if (round.embedded !== chunk.length) throw new Error(`the scan embedded ${round.embedded} of ${chunk.length}`);

      for (const f of chunk) {
        await link(path.join(photos, f), path.join(queued.images, f));
        await publisher.publish({ contentId: await sha256(path.join(photos, f)), file: f, sourceUrl: null });
      }
      const s = {
        ...settings(root, queued.images, queued.alias, modelDir),
        stateDir: path.join(root, 'worker-state'),
        QUEUE_URL: queue.url,
        QUEUE_NAME: queue.name,
        EMBEDDER_SCAN: false,
      };
      const worker = await queueRun(s, client, done);
      if (worker.indexed !== done) throw new Error(`the queue worker indexed ${worker.indexed} of ${done}`);

      scanMs += round.durationMs;
      queueMs += worker.ms;
      ratios.push(round2(round.durationMs / worker.ms));
    }
    const scanRate = (n / scanMs) * 1000;
    const queueRate = (n / queueMs) * 1000;
    return [
      {
        name: `one embedder worker through the work queue, rn50, ${n} real-size photos, batch ${BATCH}, 2 batches in flight`,
        value: round1(queueRate),
        unit: 'img/s',
        baseline: { name: 'the folder scan, same photos, same run', value: round1(scanRate) },
        ratio: round2(queueRate / scanRate),
        target: '≥ 0.95',
        samples: ratios,
      },
    ];
  } finally {
    await publisher.close();
    await deleteIndices(client, scan.alias);
    await deleteIndices(client, queued.alias);
    await client.close();
    await mq.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
