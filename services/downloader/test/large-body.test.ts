// Bodies that arrive in many socket reads reach the disk byte for byte, whatever their framing or coding.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { createLogger } from '@image-search/log';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/dispatcher.ts';
import { KeyTable } from '../src/key-table.ts';
import { RecordJournal } from '../src/records.ts';
import { runRound } from '../src/round.ts';
import { type FaultServer, startServer } from './fault-server.ts';

const stem = (url: string) => createHash('sha1').update(url).digest('hex').slice(0, 16);

function jpegLike(size: number): Buffer {
  const body = randomBytes(size);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(body);
  return body;
}

const bodies = {
  '/declared': jpegLike(700 * 1024),
  '/chunked': jpegLike(300 * 1024 + 17),
  '/gzip': jpegLike(400 * 1024),
  '/spilled': jpegLike(1536 * 1024),
};

/** Sends the body in pieces, so the client gets many reads of every size. */
function inPieces(res: http.ServerResponse, body: Buffer, headers: http.OutgoingHttpHeaders): void {
  res.writeHead(200, { 'content-type': 'image/jpeg', ...headers });
  for (let at = 0; at < body.length; at += 50_000) res.write(body.subarray(at, at + 50_000));
  res.end();
}

let server: FaultServer;
let dispatcher: Dispatcher;
let dir: string;

beforeAll(async () => {
  server = await startServer({
    '/declared': (_q, res) => inPieces(res, bodies['/declared'], { 'content-length': bodies['/declared'].length }),
    '/chunked': (_q, res) => inPieces(res, bodies['/chunked'], {}),
    '/gzip': (_q, res) => inPieces(res, zlib.gzipSync(bodies['/gzip']), { 'content-encoding': 'gzip' }),
    '/spilled': (_q, res) => inPieces(res, bodies['/spilled'], { 'content-length': bodies['/spilled'].length }),
  });
  dispatcher = createDispatcher({ perHostConcurrency: 4, timeoutMs: 5000 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-large-'));
});

afterAll(async () => {
  await dispatcher?.destroy();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bodies of many socket reads', () => {
  it('are stored byte for byte and leave no temporary file', async () => {
    const out = path.join(dir, 'images');
    const listFile = path.join(dir, 'urls.txt');
    const paths = Object.keys(bodies) as Array<keyof typeof bodies>;
    await writeFile(listFile, `${paths.map((p) => `${server.base}${p}`).join('\n')}\n`);
    const { journal } = await RecordJournal.open(out);
    const never = new AbortController().signal;
    const log = createLogger('downloader-test', {
      level: 'info',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    try {
      const summary = await runRound(
        {
          urlFile: listFile,
          outputDir: out,
          maxConcurrency: 4,
          perHostConcurrency: 4,
          timeoutMs: 5000,
          minBytesPerSecond: 0,
          maxBytes: 4 * 1024 * 1024,
          maxRetries: 0,
          retryFailedAfterMs: 3600_000,
          userAgent: 'downloader-test',
        },
        { log, journal, dispatcher, stop: never, abort: never, reportedInvalid: new KeyTable() },
      );
      expect(summary).toMatchObject({ new: paths.length, failedTotal: 0 });
    } finally {
      await journal.close();
    }
    for (const p of paths) {
      expect((await readFile(path.join(out, `${stem(`${server.base}${p}`)}.jpg`))).equals(bodies[p]), p).toBe(true);
    }
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
