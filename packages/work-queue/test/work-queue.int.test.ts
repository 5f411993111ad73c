// The queue contract against a real RabbitMQ 3.10: confirmed publishing, batches of prefetch size, redelivery of
// what a consumer did not ack, the dead-letter queue with its reason, counts, and surviving a broker restart.
import { createLogger } from '@image-search/log';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { restartableBroker, sharedBroker, takeMessage, testQueueName } from '../../../test/rabbitmq.ts';
import {
  consumeBatches,
  type Delivered,
  type PictureOutcome,
  PicturePublisher,
  QueueCounter,
  type QueueSettings,
  queueNames,
} from '../src/index.ts';

const logger = createLogger('work-queue-test', { level: 'silent' });
let url: string;

beforeAll(async () => {
  url = await sharedBroker();
});

const settings = (on = url): QueueSettings => ({ url: on, name: testQueueName('work-queue'), maxAttempts: 3 });
const picture = (i: number) => ({
  contentId: i.toString(16).padStart(64, '0'),
  file: `p/${i}.png`,
  sourceUrl: `https://example.com/${i}.png`,
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Publishes `i` as soon as the publisher has a broker (it connects in the background). */
const publishWhenConnected = (publisher: PicturePublisher, i: number) =>
  until('the publisher connected', async () =>
    publisher.publish(picture(i)).then(
      () => true,
      () => false,
    ),
  );

describe('work queue', () => {
  it('delivers confirmed messages in batches of the prefetch size and counts what waits', async () => {
    const s = settings();
    const publisher = await PicturePublisher.open(s, logger);
    await publishWhenConnected(publisher, 0);
    for (let i = 1; i < 10; i++) await publisher.publish(picture(i));
    const counter = await QueueCounter.open(s, logger);
    await until('counts', async () => (await counter.counts())?.queued === 10);

    const batches: number[] = [];
    const seen: string[] = [];
    const consumer = await consumeBatches(s, {
      batchSize: 4,
      logger,
      handle: async (batch) => {
        batches.push(batch.length);
        seen.push(...batch.map((d) => d.picture.file));
        return batch.map(() => ({ status: 'done' }));
      },
    });
    await until('all consumed', () => seen.length === 10);
    expect(Math.max(...batches)).toBe(4);
    expect(new Set(seen).size).toBe(10);
    await until('queue empty', async () => (await counter.counts())?.queued === 0);
    await consumer.close();
    await publisher.close();
    await counter.close();
  });

  it('retries a failing picture and after QUEUE_MAX_ATTEMPTS moves it to <name>.failed with its reason', async () => {
    const s = settings();
    const publisher = await PicturePublisher.open(s, logger);
    await publishWhenConnected(publisher, 1);
    await publisher.publish(picture(2));
    const attempts: Delivered[] = [];
    const consumer = await consumeBatches(s, {
      batchSize: 2,
      lingerMs: 20,
      logger,
      handle: async (batch) =>
        batch.map((d): PictureOutcome => {
          if (d.picture.file !== 'p/2.png') return { status: 'done' };
          attempts.push(d);
          return { status: 'failed', reason: 'corrupt: not a picture' };
        }),
    });
    const counter = await QueueCounter.open(s, logger);
    await until('dead-lettered', async () => (await counter.counts())?.failed === 1);
    expect(attempts.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(await counter.counts()).toEqual({ queued: 0, failed: 1 });

    const dead = await takeMessage(url, queueNames(s.name).failed);
    expect(dead.body).toMatchObject({ file: 'p/2.png' });
    expect(dead.headers['x-failure-reason']).toBe('corrupt: not a picture');
    await consumer.close();
    await publisher.close();
    await counter.close();
  });

  it('loses nothing across a broker restart: unacked messages come back, consumers and publishers reconnect', async () => {
    const broker = await restartableBroker();
    onTestFinished(() => broker.release());
    const s = settings(broker.url);
    const publisher = await PicturePublisher.open(s, logger);
    await publishWhenConnected(publisher, 0);
    for (let i = 1; i < 6; i++) await publisher.publish(picture(i));
    const done = new Set<string>();
    let hold = true;
    const consumer = await consumeBatches(s, {
      batchSize: 3,
      lingerMs: 20,
      logger,
      handle: async (batch) => {
        // The first batch is still being worked on when the broker goes away: it must be delivered again.
        while (hold) await new Promise((r) => setTimeout(r, 50));
        for (const d of batch) done.add(d.picture.file);
        return batch.map(() => ({ status: 'done' }));
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    await broker.restart();
    hold = false;
    for (let i = 6; i < 9; i++) await publishWhenConnected(publisher, i);
    await until('every picture handled', () => done.size === 9);
    const counter = await QueueCounter.open(s, logger);
    await until('queue drained', async () => (await counter.counts())?.queued === 0);
    await consumer.close();
    await publisher.close();
    await counter.close();
  });
});
