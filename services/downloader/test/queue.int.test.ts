// The real `pnpm downloader --once` with QUEUE_URL: every stored picture announced on the work queue (content id, file,
// source URL); with the broker unreachable the pictures are stored all the same and the log says the scan will index them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { queueNames } from '@image-search/work-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/free-port.ts';
import { sharedBroker, takeMessage, testQueueName } from '../../../test/rabbitmq.ts';
import { type FaultServer, makePictures, type Pictures, pictureRoutes, startServer } from './fault-server.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let brokerUrl: string;
let server: FaultServer;
let pictures: Pictures;
let dir: string;

beforeAll(async () => {
  brokerUrl = await sharedBroker();
  pictures = await makePictures();
  server = await startServer({
    ...pictureRoutes(pictures),
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-queue-'));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function downloadOnce(out: string, queueUrl: string, queueName: string) {
  const urlFile = path.join(dir, `${queueName}.txt`);
  await writeFile(urlFile, `${server.base}/a.jpg\n${server.base}/b.png\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/downloader/src/main.ts', '--once'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'INFO',
      URL_FILE: urlFile,
      OUTPUT_DIR: out,
      QUEUE_URL: queueUrl,
      QUEUE_NAME: queueName,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const listed = await readdir(out, { recursive: true, withFileTypes: true });
  const files = listed
    .filter((e) => e.isFile() && !path.relative(out, e.parentPath).startsWith('.') && !e.name.startsWith('.'))
    .map((e) => path.relative(out, path.join(e.parentPath, e.name)))
    .sort();
  return { code, stdout, files };
}

describe('downloader with a work queue', () => {
  it('announces every stored picture with its content id, file and source URL', async () => {
    const out = path.join(dir, 'up');
    const queue = testQueueName('announced');
    const run = await downloadOnce(out, brokerUrl, queue);
    expect(run.code, run.stdout).toBe(0);
    expect(run.files, run.stdout).toHaveLength(2);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const got = [
      await takeMessage(brokerUrl, queueNames(queue).work),
      await takeMessage(brokerUrl, queueNames(queue).work),
    ].map((m) => m.body as { contentId: string; file: string; sourceUrl: string });
    expect(got.map((m) => m.sourceUrl).sort()).toEqual([`${server.base}/a.jpg`, `${server.base}/b.png`]);
    expect(got.map((m) => m.file).sort()).toEqual(run.files);
    expect(got.map((m) => m.contentId).sort()).toEqual([sha(pictures.jpeg), sha(pictures.png)].sort());
  });

  it('stores the pictures when the broker is unreachable, and says the folder scan will index them', async () => {
    const out = path.join(dir, 'down');
    const run = await downloadOnce(out, `amqp://guest:guest@127.0.0.1:${await freePort()}`, 'unreachable');
    expect(run.code).toBe(0);
    expect(run.files).toHaveLength(2);
    expect(run.stdout).toContain('the embedder folder scan will index them');
  });
});
