// A RabbitMQ of a test file's own (pnpm mq:start's code on a free port, data in a temporary folder), so a test may
// restart it, and no broker of the user's or of another test file is touched.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type LocalMq, startLocalRabbitMq } from '@image-search/local-rabbitmq';
import amqp from 'amqplib';
import { freePort } from './free-port.ts';

export interface TestBroker {
  url: string;
  /** Stops the broker and starts it again on the same port and data (durable queues and messages survive). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'image-search-mq-'));
  // Distribution and epmd ports are the AMQP port + 30,000 and + 31,000: keep all three under 65,536.
  let port = await freePort();
  while (port > 30_000) port = 10_000 + (port % 20_000);
  let mq: LocalMq = await startLocalRabbitMq({ port, dataDir });
  return {
    url: mq.url,
    async restart() {
      await mq.stop();
      mq = await startLocalRabbitMq({ port, dataDir });
    },
    async stop() {
      await mq.stop();
      await rm(dataDir, { recursive: true, force: true });
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
