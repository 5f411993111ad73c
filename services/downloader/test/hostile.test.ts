// Servers that break the rules, each a raw socket server of its own (so no case shares a connection with another):
// a picture is stored only after status 200, a complete body and a sniff; everything else is one failure line with
// its reason, and the round still ends.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { createLogger } from '@image-search/log';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/dispatcher.ts';
import { KeyTable } from '../src/key-table.ts';
import { MAX_CODINGS, MAX_INFORMATIONAL } from '../src/receive-image.ts';
import { RecordJournal } from '../src/records.ts';
import { type RoundSummary, runRound } from '../src/round.ts';
import { makePictures, type Pictures } from './fault-server.ts';
import { latestRecords } from './journal-file.ts';
import { type RawRoute, type RawServer, response, startRawServer, trickle } from './raw-server.ts';

const MAX_BYTES = 64 * 1024;
const stem = (url: string) => createHash('sha1').update(url).digest('hex').slice(0, 16);
const gzipTimes = (body: Buffer, n: number) => {
  let out = body;
  for (let i = 0; i < n; i++) out = zlib.gzipSync(out);
  return out;
};
const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
const closeDelimited = (body: Buffer) => response('200 OK', { 'content-length': null, connection: 'close' }, body);

let pictures: Pictures;
const servers = new Map<string, RawServer>();
let dir: string;
let out: string;
let dispatcher: Dispatcher;
let summary: RoundSummary;
const logLines: Array<Record<string, unknown>> = [];

/** Each case: its routes (on a server of its own) and the path the URL list names. */
function cases(p: Pictures): Record<string, Record<string, RawRoute>> {
  return {
    partial: { '/x': (s) => s.write(response('206 Partial Content', { 'content-range': 'bytes 0-9/999' }, p.jpeg)) },
    otherSuccess: { '/x': (s) => s.write(response('203 Non-Authoritative Information', {}, p.jpeg)) },
    redirectWithoutLocation: { '/x': (s) => s.write(response('302 Found', {})) },
    redirectToNowhere: { '/x': (s) => s.write(response('301 Moved Permanently', { location: 'http://[::1' })) },
    informationalStorm: {
      '/x': (s) => s.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n'.repeat(MAX_INFORMATIONAL + 5)),
    },
    closeDelimitedWhole: { '/x': (s) => s.end(closeDelimited(p.jpeg)) },
    closeDelimitedJpegCutByReset: {
      '/x': (s) => s.write(closeDelimited(half(p.jpeg)), () => setTimeout(() => s.resetAndDestroy(), 20)),
    },
    closeDelimitedPngCut: { '/x': (s) => s.end(closeDelimited(half(p.png))) },
    closeDelimitedWebpCut: { '/x': (s) => s.end(closeDelimited(half(p.webp))) },
    chunkedWithoutLastChunk: {
      '/x': (s) => {
        const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
        s.end(`${head}${p.jpeg.length.toString(16)}\r\n${p.jpeg.toString('latin1')}\r\n`, 'latin1');
      },
    },
    declaredLengthShort: {
      '/x': (s) => s.end(response('200 OK', { 'content-length': p.jpeg.length }, half(p.jpeg))),
    },
    tooManyCodings: {
      '/x': (s) => {
        const n = MAX_CODINGS + 1;
        s.write(response('200 OK', { 'content-encoding': Array(n).fill('gzip').join(', ') }, gzipTimes(p.jpeg, n)));
      },
    },
    thousandsOfCodings: {
      '/x': (s) => s.write(response('200 OK', { 'content-encoding': Array(1000).fill('gzip').join(', ') }, p.jpeg)),
    },
    fiveCodings: {
      '/x': (s) => {
        const n = MAX_CODINGS;
        s.write(response('200 OK', { 'content-encoding': Array(n).fill('gzip').join(', ') }, gzipTimes(p.jpeg, n)));
      },
    },
    secondResponseInTheSameWrite: {
      '/x': (s) => s.write(Buffer.concat([response('200 OK', {}, p.jpeg), response('200 OK', {}, p.png)])),
      '/next': (s) => s.write(response('200 OK', {}, p.gif)),
    },
    headerTrickle: { '/x': (s) => trickle(s, Buffer.from(`HTTP/1.1 200 OK\r\nx-pad: ${'a'.repeat(500)}`), 1, 100) },
    steadyButEndless: {
      '/x': (s) => {
        s.write(response('200 OK', { 'content-length': MAX_BYTES }, p.jpeg));
        trickle(s, Buffer.alloc(MAX_BYTES - p.jpeg.length, 0x55), 100, 100);
      },
    },
    oneByteChunks: {
      '/x': (s) => {
        s.write(response('200 OK', { 'content-length': p.png.length }));
        trickle(s, p.png, 1, 0);
      },
    },
    smallChunksPastTheCap: {
      '/x': (s) => {
        const body = Buffer.alloc(MAX_BYTES * 2, 0x55);
        p.jpeg.copy(body, 0, 0, 64);
        s.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n');
        trickle(s, body, 512, 0);
      },
    },
  };
}

/** What each case must end as: a stored picture, or a failure with this reason. */
const EXPECTED: Record<string, { stored: keyof Pictures } | { failed: string }> = {
  partial: { failed: 'http_206' },
  otherSuccess: { failed: 'http_203' },
  redirectWithoutLocation: { failed: 'http_302' },
  redirectToNowhere: { failed: 'bad_redirect' },
  informationalStorm: { failed: 'http_103' },
  closeDelimitedWhole: { stored: 'jpeg' },
  closeDelimitedJpegCutByReset: { failed: 'truncated' },
  closeDelimitedPngCut: { failed: 'truncated' },
  closeDelimitedWebpCut: { failed: 'truncated' },
  chunkedWithoutLastChunk: { failed: 'connection_error' },
  declaredLengthShort: { failed: 'truncated' },
  tooManyCodings: { failed: 'bad_encoding' },
  thousandsOfCodings: { failed: 'bad_encoding' },
  fiveCodings: { stored: 'jpeg' },
  secondResponseInTheSameWrite: { stored: 'jpeg' },
  headerTrickle: { failed: 'too_slow' },
  steadyButEndless: { failed: 'timeout' },
  oneByteChunks: { stored: 'png' },
  smallChunksPastTheCap: { failed: 'too_large' },
};

const url = (name: string, p = '/x') => `${servers.get(name)?.base}${p}`;

beforeAll(async () => {
  pictures = await makePictures();
  for (const [name, routes] of Object.entries(cases(pictures))) servers.set(name, await startRawServer(routes));
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-hostile-'));
  out = path.join(dir, 'images');
  const listFile = path.join(dir, 'urls.txt');
  const list = [...Object.keys(EXPECTED).map((name) => url(name)), url('secondResponseInTheSameWrite', '/next')];
  await writeFile(listFile, `${list.join('\n')}\n`);
  dispatcher = createDispatcher({ perHostConcurrency: 1, timeoutMs: 8000 });
  const { journal } = await RecordJournal.open(out);
  const log = createLogger('downloader-test', {
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    }),
  });
  const never = new AbortController().signal;
  try {
    summary = await runRound(
      {
        urlFile: listFile,
        outputDir: out,
        maxConcurrency: 32,
        perHostConcurrency: 1,
        // generous: these servers share a process (and a busy machine) with the downloader, so their pace varies
        timeoutMs: 8000,
        minBytesPerSecond: 1,
        rateWindowMs: 1000,
        maxBytes: MAX_BYTES,
        maxRetries: 0,
        retryFailedAfterMs: 3600_000,
        userAgent: 'downloader-test',
      },
      { log, journal, dispatcher, stop: never, abort: never, reportedInvalid: new KeyTable() },
    );
  } finally {
    await journal.close();
  }
}, 60_000);

afterAll(async () => {
  await dispatcher?.destroy();
  for (const server of servers.values()) await server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a round against hostile servers', () => {
  it('ends, with every URL either stored or failed', () => {
    const stored = Object.values(EXPECTED).filter((e) => 'stored' in e).length + 1;
    expect(summary).toMatchObject({ new: stored, failedTotal: Object.keys(EXPECTED).length + 1 - stored });
  });

  it.each(Object.entries(EXPECTED))('%s', async (name, expected) => {
    const record = (await latestRecords(out)).get(url(name));
    if ('stored' in expected) {
      expect(record, JSON.stringify(record)).toMatchObject({ status: 'done' });
      expect(await readFile(path.join(out, record?.file ?? ''))).toEqual(pictures[expected.stored]);
    } else {
      expect(record, JSON.stringify(record)).toMatchObject({ status: 'failed', error: expected.failed, file: null });
      expect((await readdir(out)).some((n) => n.startsWith(stem(url(name))))).toBe(false);
      const lines = logLines.filter((l) => l.url === url(name) && String(l.msg).startsWith('download failed'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ reason: expected.failed });
    }
  });

  it('never takes the bytes behind a response as the answer to the next request on the connection', async () => {
    const record = (await latestRecords(out)).get(url('secondResponseInTheSameWrite', '/next'));
    expect(record).toMatchObject({ status: 'done' });
    expect(await readFile(path.join(out, record?.file ?? ''))).toEqual(pictures.gif);
  });

  it('says which status it got instead of 200', async () => {
    const records = await latestRecords(out);
    expect(records.get(url('partial'))?.detail).toMatch(/HTTP 206/);
    expect(records.get(url('informationalStorm'))?.detail).toMatch(/informational/);
  });

  it('leaves no temporary file', async () => {
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
