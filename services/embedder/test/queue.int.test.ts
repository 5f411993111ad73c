// Embedder workers fed by a real RabbitMQ: three worker processes on one queue and one index, one of them killed with
// SIGKILL mid-run and the broker restarted mid-run; every distinct picture ends up indexed exactly once, and a picture
// that cannot be decoded ends in the dead-letter queue with its reason. Then the scanning embedder indexes a picture
// that was never announced on the queue. The workers share one STATE_DIR, as Compose replicas share the
// embedder-state volume, each with a heartbeat of its own: the killed one's health check fails while the others pass.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@image-search/log';
import { heartbeatProblem } from '@image-search/process';
import { PicturePublisher, QueueCounter, queueNames } from '@image-search/work-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartableBroker, type TestBroker, takeMessage, testQueueName } from '../../../test/rabbitmq.ts';
import {
  colourPicture,
  processEnv,
  repoRoot,
  sha,
  sharedCluster,
  tinyModelDir,
  uniqueAlias,
  workDirs,
} from './fixtures.ts';

const { client, aliases, roots } = sharedCluster();
const logger = createLogger('queue-test', { level: 'silent' });
const children: ChildProcess[] = [];
const cleanup: Array<() => Promise<unknown>> = [];
let broker: TestBroker;

beforeAll(async () => {
  broker = await restartableBroker();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const c of cleanup) await c();
  await broker?.release();
});

function startWorker(env: Record<string, string>): ChildProcess {
  // node itself (not the tsx wrapper, which runs the program in a second process) so SIGKILL hits the embedder.
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/embedder/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function until(what: string | (() => string), check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function indexedIds(alias: string): Promise<string[]> {
  const exists = await client.indices.exists({ index: alias });
  if (!exists) return [];
  await client.indices.refresh({ index: alias });
  const res = await client.search({ index: alias, size: 1000, _source: false, query: { match_all: {} } });
  return res.hits.hits.map((h) => h._id as string);
}

describe('embedder workers on the work queue', () => {
  it('index every picture exactly once through a SIGKILL and a broker restart, and dead-letter a poison picture', async () => {
    const dirs = await workDirs('queue');
    const alias = uniqueAlias('queue');
    aliases.push(alias);
    roots.push(dirs.root);
    // The product default: a good picture can be interrupted twice here (the SIGKILL, then the broker restart), and
    // with 2 attempts that second interruption sent it to the dead-letter queue as if it were poison.
    const queue = { url: broker.url, name: testQueueName('embedder'), maxAttempts: 3 };
    const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'white'] as const;
    const publisher = await PicturePublisher.open(queue, logger);
    const pictures: Array<{ contentId: string; file: string; sourceUrl: string }> = [];
    const ids = new Set<string>();
    for (let i = 0; i < 150; i++) {
      // Every tenth picture is stored twice under two names: one document for both.
      const data = await colourPicture(colours[i % colours.length], i % 10 === 9 ? i - 1 : i);
      const file = `p${i}.png`;
      await writeFile(path.join(dirs.images, file), data);
      ids.add(sha(data));
      pictures.push({ contentId: sha(data), file, sourceUrl: `https://example.com/${file}` });
    }
    const poison = Buffer.from('this is not a picture at all');
    await writeFile(path.join(dirs.images, 'poison.png'), poison);
    pictures.push({ contentId: sha(poison), file: 'poison.png', sourceUrl: 'https://example.com/poison.png' });
    for (const p of pictures) {
      await until(
        'the publisher connected',
        () =>
          publisher.publish(p).then(
            () => true,
            () => false,
          ),
        20_000,
      );
    }
    await publisher.close();

    const modelDir = await tinyModelDir();
    const heartbeat = (n: number) => path.join(dirs.root, `heartbeat-${n}.json`);
    const env = (n: number) => ({
      ...processEnv(dirs, alias, modelDir),
      HEARTBEAT_FILE: heartbeat(n),
      HEALTH_STALE_SECONDS: '5',
      QUEUE_URL: queue.url,
      QUEUE_NAME: queue.name,
      QUEUE_MAX_ATTEMPTS: String(queue.maxAttempts),
      EMBEDDER_SCAN: 'false',
    });
    const workers = [0, 1, 2].map((n) => startWorker(env(n)));

    await until('a first part indexed', async () => (await indexedIds(alias)).length >= 20);
    workers[0].kill('SIGKILL');
    await until('more indexed', async () => (await indexedIds(alias)).length >= 50);
    await broker.restart();

    const counter = await QueueCounter.open(queue, logger);
    cleanup.push(() => counter.close());
    let seen = '';
    await until(
      () => `the queue drained (last seen: ${seen})`,
      async () => {
        const counts = await counter.counts();
        const indexed = (await indexedIds(alias)).length;
        seen = `${JSON.stringify(counts)}, ${indexed} of ${ids.size} pictures indexed`;
        return counts?.queued === 0 && counts.failed === 1 && indexed >= ids.size;
      },
    );
    // Unacked messages of the killed worker are back in the queue only once the broker noticed; settle, then look.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await counter.counts())?.queued).toBe(0);
    const indexed = await indexedIds(alias);
    expect(indexed.length).toBe(ids.size);
    expect(new Set(indexed)).toEqual(ids);

    await until('the killed worker counted as stuck', async () => heartbeatProblem(heartbeat(0)) !== undefined, 20_000);
    expect(heartbeatProblem(heartbeat(1))).toBeUndefined();
    expect(heartbeatProblem(heartbeat(2))).toBeUndefined();

    const dead = await takeMessage(broker.url, queueNames(queue.name).failed);
    expect(dead.body).toMatchObject({ file: 'poison.png' });
    expect(String(dead.headers['x-failure-reason'])).toMatch(/^(corrupt|unsupported)/);

    // The scanning embedder (EMBEDDER_SCAN on, the default) indexes what no message announced.
    for (const w of workers) w.kill('SIGKILL');
    const byHand = await colourPicture('red', 999, 'jpeg');
    await writeFile(path.join(dirs.images, 'added-by-hand.jpg'), byHand);
    startWorker({ ...env(9), EMBEDDER_SCAN: 'true', POLL_SECONDS: '1' });
    await until('the hand-added picture indexed', async () => (await indexedIds(alias)).includes(sha(byHand)));
    expect((await indexedIds(alias)).length).toBe(ids.size + 1);
  }, 300_000);
});
