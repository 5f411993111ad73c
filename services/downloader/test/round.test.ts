// A whole round against a loopback server that serves real pictures and every fault the issue lists.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@image-search/log';
import { readSource } from '@image-search/picture-store';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/dispatcher.ts';
import { KeyTable } from '../src/key-table.ts';
import { RecordJournal } from '../src/records.ts';
import { type RoundOptions, type RoundSummary, runRound } from '../src/round.ts';
import { type FaultServer, faultRoutes, makePictures, type Pictures, startServer } from './fault-server.ts';
import { latestRecords } from './journal-file.ts';

const MAX_BYTES = 64 * 1024;
const stem = (url: string) => createHash('sha1').update(url).digest('hex').slice(0, 16);

const GOOD: Array<[string, keyof Pictures, string]> = [
  ['/img/photo.jpg', 'jpeg', '.jpg'],
  ['/img/graphic', 'png', '.png'],
  ['/img/pic.webp', 'webp', '.webp'],
  ['/img/anim.gif', 'gif', '.gif'],
  ['/img/new.avif', 'avif', '.avif'],
  ['/img/scan.tiff', 'tiff', '.tiff'],
  ['/same/1', 'same', '.jpg'],
  ['/same/2', 'same', '.jpg'],
  ['/same/3.jpg', 'same', '.jpg'],
  ['/flaky', 'jpeg', '.jpg'],
  ['/rate-limited', 'png', '.png'],
  ['/chain/1', 'jpeg', '.jpg'],
  ['/gzip-content', 'jpeg', '.jpg'],
  ['/gzip-transfer', 'png', '.png'],
];

const BAD: Array<[string, string, boolean]> = [
  ['/missing', 'http_404', true],
  ['/forbidden', 'http_403', true],
  ['/always-500', 'http_503', false],
  ['/stall', 'timeout', false],
  ['/reset-mid-body', 'connection_error', false],
  ['/short-body', 'truncated', false],
  ['/html-as-jpeg', 'html', true],
  ['/drawing.svg', 'svg', true],
  ['/notes.txt', 'text', true],
  ['/binary', 'unknown_format', true],
  ['/huge-chunked', 'too_large', true],
  ['/huge-declared', 'too_large', true],
  ['/loop/a', 'redirect_loop', true],
  ['/endless/0', 'too_many_redirects', true],
  ['/to-ftp', 'bad_redirect', true],
];

let server: FaultServer;
let pictures: Pictures;
let dir: string;
let out: string;
let listFile: string;
let dispatcher: Dispatcher;
let journal: RecordJournal;
const reportedInvalid = new KeyTable();
const logLines: string[] = [];
const log = createLogger('downloader-test', {
  level: 'info',
  destination: new Writable({
    write(chunk, _enc, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  }),
});

const u = (p: string) => `${server.base}${p}`;

function options(extra: Partial<RoundOptions> = {}): RoundOptions {
  return {
    urlFile: listFile,
    outputDir: out,
    maxConcurrency: 8,
    perHostConcurrency: 6,
    timeoutMs: 1000,
    minBytesPerSecond: 0,
    maxBytes: MAX_BYTES,
    maxRetries: 2,
    retryFailedAfterMs: 3600_000,
    userAgent: 'downloader-test',
    backoffBaseMs: 40,
    backoffMaxMs: 200,
    progressEveryMs: 500,
    ...extra,
  };
}

function round(extra: Partial<RoundOptions> = {}): Promise<RoundSummary> {
  const never = new AbortController().signal;
  return runRound(options(extra), { log, journal, dispatcher, stop: never, abort: never, reportedInvalid });
}

let first: RoundSummary;

beforeAll(async () => {
  pictures = await makePictures();
  server = await startServer(faultRoutes(pictures, { maxBytes: MAX_BYTES }));
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-round-'));
  out = path.join(dir, 'images');
  listFile = path.join(dir, 'urls.txt');
  dispatcher = createDispatcher({ perHostConcurrency: 6, timeoutMs: 1000 });
  journal = (await RecordJournal.open(out)).journal;
  const lines = [
    '# pictures',
    '',
    ...GOOD.map(([p]) => `  ${u(p)}  `),
    u('/img/photo.jpg'),
    'not a url',
    'ftp://example.com/a.jpg',
    ...BAD.map(([p]) => u(p)),
    `\t${u('/same/1')}`,
  ];
  await writeFile(listFile, `${lines.join('\n')}\n`);
  first = await round();
}, 60_000);

afterAll(async () => {
  await journal?.close();
  await dispatcher?.destroy();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a round over good and faulty URLs', () => {
  it('stores every good URL once, under sha1(url)[:16] and its real extension, with the exact bytes', async () => {
    for (const [p, kind, ext] of GOOD) {
      const file = path.join(out, `${stem(u(p))}${ext}`);
      expect(await readFile(file), p).toEqual(pictures[kind]);
    }
    const names = (await readdir(out)).filter((n) => n !== '.downloader').sort();
    expect(names).toEqual(GOOD.map(([p, , ext]) => `${stem(u(p))}${ext}`).sort());
  });

  it('leaves no temporary or partial file', async () => {
    const all = [...(await readdir(out)), ...(await readdir(path.join(out, '.downloader')))];
    expect(all.filter((n) => n.includes('.tmp-'))).toEqual([]);
    for (const [p] of BAD) {
      expect(
        all.some((n) => n.startsWith(stem(u(p)))),
        p,
      ).toBe(false);
    }
  });

  it('gives the embedder the source URL of each stored file in the journal, not in a file a picture', async () => {
    const name = `${stem(u('/chain/1'))}.jpg`;
    const records = await latestRecords(out);
    const record = [...records.values()].find((r) => r.file === name);
    expect(record).toMatchObject({ url: u('/chain/1'), final_url: u('/img/photo.jpg'), content_type: 'image/jpeg' });
    expect(Number.isNaN(Date.parse(record?.at ?? ''))).toBe(false);
    for (const [p, , ext] of GOOD) expect((await readSource(out, `${stem(u(p))}${ext}`))?.url, p).toBe(u(p));
  });

  it('records each bad URL with its reason, and whether it is permanent', async () => {
    const records = await latestRecords(out);
    for (const [p, reason, permanent] of BAD) {
      const r = records.get(u(p));
      expect(r, p).toMatchObject({ status: 'failed', error: reason, permanent, file: null });
    }
    expect(records.get(u('/stall'))?.attempts).toBe(3);
    expect(records.get(u('/missing'))?.attempts).toBe(1);
    expect(records.get(u('/html-as-jpeg'))?.detail).toMatch(/HTML/);
  });

  it('records each good URL with file, bytes, real type, final URL and attempts', async () => {
    const records = await latestRecords(out);
    expect(records.get(u('/flaky'))).toMatchObject({ status: 'done', attempts: 2, content_type: 'image/jpeg' });
    expect(records.get(u('/img/graphic'))).toMatchObject({
      status: 'done',
      file: `${stem(u('/img/graphic'))}.png`,
      bytes: pictures.png.length,
      content_type: 'image/png',
      final_url: u('/img/graphic'),
      attempts: 1,
    });
  });

  it('retries a 500 and waits as long as Retry-After says after a 429', () => {
    expect(server.hits.get('/flaky')).toHaveLength(2);
    const [a, b] = server.hits.get('/rate-limited') ?? [];
    expect(b - a).toBeGreaterThanOrEqual(950);
    expect(server.count('/missing')).toBe(1);
    expect(server.count('/always-500')).toBe(3);
  });

  it('summarises the round: new, duplicates, invalid lines and failures by reason', () => {
    expect(first).toMatchObject({
      urls: GOOD.length + BAD.length,
      duplicates: 2,
      invalid: 2,
      alreadyThere: 0,
      new: GOOD.length,
      failedTotal: BAD.length,
    });
    expect(first.failed).toMatchObject({ too_large: 2, http_404: 1, timeout: 1, redirect_loop: 1 });
    expect(first.bytes).toBe(GOOD.reduce((sum, [, kind]) => sum + pictures[kind].length, 0));
  });

  it('logs progress (done/total, rate, ETA) during the round and one summary line at its end', () => {
    const progress = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg.startsWith('downloading:'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ total: GOOD.length + BAD.length });
    expect(progress[0]).toHaveProperty('ratePerSec');
    expect(progress[0]).toHaveProperty('etaSec');
    const summaries = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg.startsWith('round finished'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ new: GOOD.length, failed: { http_404: 1 }, bytes: first.bytes });
    expect(logLines.filter((l) => l.includes('invalid line(s)'))).toHaveLength(1);
    expect(logLines.find((l) => l.includes('invalid line(s)'))).toMatch(/line \d+ \(contains spaces\)/);
  });

  it('makes no request for finished URLs in the next round, and retries only passing failures', async () => {
    server.resetCounts();
    const second = await round();
    const finished = [...GOOD.map(([p]) => p), ...BAD.filter(([, , permanent]) => permanent).map(([p]) => p)];
    for (const p of finished) expect(server.count(p), p).toBe(0);
    expect(server.count('/always-500')).toBe(3);
    expect(second).toMatchObject({ new: 0, alreadyThere: GOOD.length, waitingRetry: 11 });
  });

  it('tries permanent failures again once RETRY_FAILED_AFTER has passed', async () => {
    server.resetCounts();
    await round({ retryFailedAfterMs: 0 });
    expect(server.count('/missing')).toBe(1);
    expect(server.count('/img/photo.jpg')).toBe(0);
  });
});
