// vitest globalSetup for the integration project: one RabbitMQ for the whole run, as for Elasticsearch. QUEUE_URL is
// reused when it answers; otherwise the run gets a broker of its own on a free port with its data in a temporary
// folder, started by the first test file that asks for it (test/rabbitmq.ts), so runs without queue tests pay nothing,
// and stopped after the run. Test files keep apart by queue names of their own.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRabbitMqUp, stopLocalRabbitMq, urlFor } from '@image-search/local-rabbitmq';
import type { TestProject } from 'vitest/node';
import { brokerPort, type SharedBroker } from './rabbitmq.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    rabbitmq: SharedBroker;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.QUEUE_URL;
  if (given && (await isRabbitMqUp(given))) {
    console.log('[rabbitmq] reusing QUEUE_URL');
    project.provide('rabbitmq', { url: given });
    return async () => {};
  }
  if (given) console.log('[rabbitmq] QUEUE_URL does not answer: the run starts a broker of its own');
  const local = { port: await brokerPort(), dataDir: await mkdtemp(path.join(os.tmpdir(), 'image-search-mq-')) };
  // Restarting it is safe only while no other test file can be using it: one worker (fileParallelism: false).
  project.provide('rabbitmq', { url: urlFor(local.port), local, restartable: project.config.maxWorkers === 1 });
  return async () => {
    await stopLocalRabbitMq(local);
    await rm(local.dataDir, { recursive: true, force: true });
  };
}
