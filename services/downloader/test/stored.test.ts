// Records against what OUTPUT_DIR really holds, over real sockets: a picture deleted after it was recorded as done is
// fetched again, and pictures the original downloader left (`sha1(url)[:16].jpg`, no record) are adopted, not fetched.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@image-search/log';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/dispatcher.ts';
import { KeyTable } from '../src/key-table.ts';
import { RecordJournal } from '../src/records.ts';
import { type RoundSummary, runRound } from '../src/round.ts';
import { type FaultServer, faultRoutes, makePictures, type Pictures, startServer } from './fault-server.ts';
import { latestRecords } from './journal-file.ts';

const MAX_BYTES = 64 * 1024;
const stem = (url: string) => createHash('sha1').update(url).digest('hex').slice(0, 16);

let server: FaultServer;
let pictures: Pictures;
let dispatcher: Dispatcher;
let dir: string;
let out: string;
let listFile: string;
let journal: RecordJournal;
const log = createLogger('downloader-test', {
  level: 'info',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

const u = (p: string) => `${server.base}${p}`;

beforeAll(async () => {
  pictures = await makePictures();
  server = await startServer(faultRoutes(pictures, { maxBytes: MAX_BYTES }));
  dispatcher = createDispatcher({ perHostConcurrency: 4, timeoutMs: 5000 });
});

afterAll(async () => {
  await dispatcher?.destroy();
  await server?.close();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-stored-'));
  out = path.join(dir, 'images');
  listFile = path.join(dir, 'urls.txt');
  journal = (await RecordJournal.open(out)).journal;
  server.resetCounts();
});

afterEach(async () => {
  await journal?.close();
  await rm(dir, { recursive: true, force: true });
});

function round(paths: string[]): Promise<RoundSummary> {
  const never = new AbortController().signal;
  return writeFile(listFile, `${paths.map(u).join('\n')}\n`).then(() =>
    runRound(
      {
        urlFile: listFile,
        outputDir: out,
        maxConcurrency: 4,
        perHostConcurrency: 4,
        timeoutMs: 1000,
        minBytesPerSecond: 0,
        maxBytes: MAX_BYTES,
        maxRetries: 1,
        retryFailedAfterMs: 3600_000,
        userAgent: 'downloader-test',
        backoffBaseMs: 20,
        backoffMaxMs: 50,
      },
      { log, journal, dispatcher, stop: never, abort: never, reportedInvalid: new KeyTable() },
    ),
  );
}

describe('a picture recorded as done but gone from OUTPUT_DIR', () => {
  it('is fetched again in the next round, and only it', async () => {
    const paths = ['/img/photo.jpg', '/img/graphic', '/img/pic.webp'];
    expect(await round(paths)).toMatchObject({ new: 3, missing: 0 });
    const gone = `${stem(u('/img/graphic'))}.png`;
    await unlink(path.join(out, gone));
    server.resetCounts();

    const second = await round(paths);
    expect(second).toMatchObject({ new: 1, missing: 1, alreadyThere: 2 });
    expect(server.count('/img/graphic')).toBe(1);
    expect(server.count('/img/photo.jpg')).toBe(0);
    expect(server.count('/img/pic.webp')).toBe(0);
    expect(await readFile(path.join(out, gone))).toEqual(pictures.png);
    expect((await latestRecords(out)).get(u('/img/graphic'))).toMatchObject({ status: 'done', file: gone });

    server.resetCounts();
    expect(await round(paths)).toMatchObject({ new: 0, missing: 0, alreadyThere: 3 });
    expect(server.count('/img/graphic')).toBe(0);
  });
});

describe('pictures the original downloader left (sha1(url)[:16].jpg, no record)', () => {
  it('are verified and recorded as done with their real type, without a request', async () => {
    await mkdir(out, { recursive: true });
    // the original saved everything as .jpg: a PNG among them keeps its name and gets its real type
    const legacyPng = `${stem(u('/img/graphic'))}.jpg`;
    const legacyJpeg = `${stem(u('/img/photo.jpg'))}.jpg`;
    await writeFile(path.join(out, legacyPng), pictures.png);
    await writeFile(path.join(out, legacyJpeg), pictures.jpeg);

    const first = await round(['/img/graphic', '/img/photo.jpg', '/img/pic.webp']);
    expect(first).toMatchObject({ adopted: 2, new: 1 });
    expect(server.count('/img/graphic')).toBe(0);
    expect(server.count('/img/photo.jpg')).toBe(0);
    expect(server.count('/img/pic.webp')).toBe(1);
    const records = await latestRecords(out);
    expect(records.get(u('/img/graphic'))).toMatchObject({
      status: 'done',
      file: legacyPng,
      content_type: 'image/png',
      bytes: pictures.png.length,
    });
    expect(records.get(u('/img/photo.jpg'))).toMatchObject({ status: 'done', file: legacyJpeg });
    expect(await readFile(path.join(out, legacyPng))).toEqual(pictures.png);

    server.resetCounts();
    expect(await round(['/img/graphic', '/img/photo.jpg', '/img/pic.webp'])).toMatchObject({
      adopted: 0,
      new: 0,
      alreadyThere: 3,
    });
    expect(server.count('/img/graphic')).toBe(0);
  });

  it('are fetched when they are not pictures (an error page saved as .jpg), the good copy replacing them', async () => {
    await mkdir(out, { recursive: true });
    const name = `${stem(u('/img/photo.jpg'))}.jpg`;
    await writeFile(path.join(out, name), '<!DOCTYPE html><html><body>Service unavailable</body></html>');

    expect(await round(['/img/photo.jpg'])).toMatchObject({ adopted: 0, new: 1 });
    expect(server.count('/img/photo.jpg')).toBe(1);
    expect(await readFile(path.join(out, name))).toEqual(pictures.jpeg);
    expect((await readdir(out)).filter((n) => !n.startsWith('.'))).toEqual([name]);
  });

  it('are adopted under any name this downloader gives (a record lost in a crash after the rename)', async () => {
    await mkdir(out, { recursive: true });
    const name = `${stem(u('/img/pic.webp'))}.webp`;
    await writeFile(path.join(out, name), pictures.webp);

    expect(await round(['/img/pic.webp'])).toMatchObject({ adopted: 1, new: 0 });
    expect(server.count('/img/pic.webp')).toBe(0);
    expect((await latestRecords(out)).get(u('/img/pic.webp'))).toMatchObject({
      file: name,
      content_type: 'image/webp',
    });
  });
});
