// The integration run's RabbitMQ (test/global-rabbitmq.ts): one broker for every test file, each file on queue names
// of its own; and for a test that restarts the broker, one it may restart without disturbing anybody else's.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalRabbitMq, stopLocalRabbitMq } from '@image-search/local-rabbitmq';
import { queueNames } from '@image-search/work-queue';
import amqp from 'amqplib';
import { inject } from 'vitest';
import { freePort } from './free-port.ts';

/** What the global setup hands the test files: the broker's URL, and where to start it when the run owns it. */
export interface SharedBroker {
  url: string;
  local?: { port: number; dataDir: string };
  /** No other test file runs at the same time, so a test may restart the run's own broker. */
  restartable?: boolean;
}

export interface TestBroker {
  url: string;
  /** Stops the broker and starts it again on the same port and data (durable queues and messages survive). */
  restart(): Promise<void>;
  /** Lets go of the broker: stops it when it is this test's own. */
  release(): Promise<void>;
}

/** A free AMQP port whose distribution and epmd ports (+30,000 and +31,000) stay under 65,536. */
export async function brokerPort(): Promise<number> {
  let port = await freePort();
  while (port > 30_000) port = 10_000 + (port % 20_000);
  return port;
}

/** The run's shared broker, started on first use when the run owns it; its URL. */
export async function sharedBroker(): Promise<string> {
  const shared = inject('rabbitmq');
  if (shared.local) await startLocalRabbitMq(shared.local);
  return shared.url;
}

const madeQueues: string[] = [];

/** A queue name no other test, file or earlier run on a reused broker has; deleted after the file on a reused one. */
export function testQueueName(label: string): string {
  const name = `test-${label}-${randomUUID().slice(0, 8)}`;
  madeQueues.push(name);
  return name;
}

/**
 * After each integration file (test/integration-setup.ts): on a reused QUEUE_URL broker, deletes the queues and
 * exchange its tests declared under testQueueName's names, so runs leave nothing behind there. A run's own broker goes
 * away with its data folder.
 */
export async function deleteTestQueues(): Promise<void> {
  const names = madeQueues.splice(0);
  const shared = inject('rabbitmq');
  if (shared.local || names.length === 0) return;
  const conn = await amqp.connect(shared.url);
  try {
    const channel = await conn.createChannel();
    for (const name of names) {
      const q = queueNames(name);
      // Deleting what was never declared is no error on RabbitMQ.
      await channel.deleteQueue(q.work);
      await channel.deleteQueue(q.failed);
      await channel.deleteExchange(q.deadLetterExchange);
    }
  } finally {
    await conn.close();
  }
}

/**
 * A broker the test may restart: the run's own shared broker while test files run one at a time (no start to pay
 * for), otherwise one of the test's own on a free port, so a reused QUEUE_URL broker is never restarted.
 */
export async function restartableBroker(): Promise<TestBroker> {
  const shared = inject('rabbitmq');
  const own = !(shared.local && shared.restartable);
  const local =
    shared.local && !own
      ? shared.local
      : { port: await brokerPort(), dataDir: await mkdtemp(path.join(os.tmpdir(), 'image-search-mq-')) };
  const { url } = await startLocalRabbitMq(local);
  return {
    url,
    async restart() {
      await stopLocalRabbitMq(local);
      await startLocalRabbitMq(local);
    },
    async release() {
      if (!own) return;
      await stopLocalRabbitMq(local);
      await rm(local.dataDir, { recursive: true, force: true });
    },
  };
}

/** The oldest message of a queue (taken off it): its JSON body and its headers. */
export async function takeMessage(
  url: string,
  queue: string,
): Promise<{ body: unknown; headers: Record<string, unknown> }> {
  const conn = await amqp.connect(url);
  try {
    const channel = await conn.createChannel();
    const msg = await channel.get(queue, { noAck: true });
    if (!msg) throw new Error(`the queue ${queue} is empty`);
    return { body: JSON.parse(msg.content.toString()), headers: msg.properties.headers ?? {} };
  } finally {
    await conn.close();
  }
}
