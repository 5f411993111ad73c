// Downloader benchmark, shaped like real use (network-bound downloads, not a loopback race for CPU):
// (1) throughput against a local server that waits 50 ms before each response, 2,000 pictures at concurrency 32,
//     divided by `curl --parallel --parallel-max 32` on the same list in the same run (target ≥ 0.9);
// (2) peak RSS with 32 downloads in flight from a server that sends every body one byte a write (target < 300 MB);
// (3) peak RSS of a round over a 1,000,000-line list whose URLs are all already done (target < 400 MB).
// Run alone: `pnpm exec tsx bench/downloader.ts [--quick]`.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRecord } from '@image-search/picture-store';
import { runIfMain } from './standalone.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'services/downloader/src/main.ts');
const CONCURRENCY = 32;
/** What the latency server waits before each response: a far host's round trip. */
const LATENCY_MS = 50;

const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);

/**
 * Random-ish bodies that start like JPEG files: the downloader checks magic bytes, not pixels (a PNG's signature is
 * followed by chunks the sniffer reads, which random bytes are not).
 */
function makePictures(count: number, minBytes: number, maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = minBytes + Math.floor(Math.random() * (maxBytes - minBytes));
    const body = randomBytes(size);
    JPEG_HEAD.copy(body, 0);
    out.push(body);
  }
  return out;
}

/** Sends `body` one byte a write, each its own TCP segment: the worst a server can chunk a body. */
function oneByteAWrite(res: http.ServerResponse, body: Buffer): void {
  res.socket?.setNoDelay(true);
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (at === body.length) {
      res.end();
      return;
    }
    // a write the socket cannot take now waits for its drain, so the server's own memory stays small
    if (res.write(body.subarray(at, ++at))) setImmediate(next);
    else res.once('drain', next);
  };
  next();
}

async function startServer(
  pictures: Buffer[],
  how: 'latency' | 'one-byte',
): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const m = /^\/img\/(\d+)\.jpg$/.exec(req.url ?? '');
    const body = m ? pictures[Number(m[1])] : undefined;
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    const headers = { 'content-type': 'image/jpeg', 'content-length': body.length };
    if (how === 'one-byte') {
      res.writeHead(200, headers);
      oneByteAWrite(res, body);
      return;
    }
    setTimeout(() => {
      res.writeHead(200, headers);
      res.end(body);
    }, LATENCY_MS);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Runs `cmd` under /usr/bin/time and returns its CPU seconds (user + system, all threads) with the rest. */
async function runTimed(cmd: string, args: string[], env?: NodeJS.ProcessEnv) {
  const r = await run('/usr/bin/time', ['-f', 'cpu-seconds %U %S', cmd, ...args], env);
  const m = /cpu-seconds ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no CPU figure from /usr/bin/time: ${r.stderr.slice(-500)}`);
  return { ...r, cpuS: Number(m[1]) + Number(m[2]) };
}

function roundSummary(stdout: string): {
  new: number;
  seconds: number;
  cpuSeconds: number;
  alreadyThere: number;
  time: string;
} {
  const line = stdout.split('\n').find((l) => l.includes('round finished'));
  if (!line) throw new Error(`the downloader printed no round summary:\n${stdout.slice(-2000)}`);
  return JSON.parse(line);
}

/** Writes back what the last run left (outside any timing), so the next one does not pay for it. */
async function settleDisk(): Promise<void> {
  const r = await run('sync', []);
  if (r.code !== 0) throw new Error(`sync failed: ${r.stderr}`);
}

async function curlRun(urls: string[], dir: string): Promise<{ wallS: number; cpuS: number }> {
  const config = path.join(dir, 'curl.cfg');
  const out = path.join(dir, 'curl-out');
  await mkdir(out, { recursive: true });
  await writeFile(config, urls.map((u, i) => `url = "${u}"\noutput = "${out}/${i}.bin"\n`).join(''));
  const r = await runTimed('/usr/bin/curl', [
    '--parallel',
    '--parallel-max',
    String(CONCURRENCY),
    '--silent',
    '--show-error',
    '--fail',
    '--config',
    config,
  ]);
  if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr.slice(0, 500)}`);
  const got = (await readdir(out)).length;
  if (got !== urls.length) throw new Error(`curl stored ${got} of ${urls.length} files`);
  await rm(out, { recursive: true, force: true });
  await settleDisk();
  return { wallS: r.ms / 1000, cpuS: r.cpuS };
}

async function downloaderRun(
  listFile: string,
  dir: string,
  count: number,
): Promise<{ roundS: number; wallS: number; roundCpuS: number; peakRssMB: number }> {
  const out = path.join(dir, 'downloader-out');
  await rm(out, { recursive: true, force: true });
  const r = await run('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', MAIN, '--once'], {
    ...process.env,
    URL_FILE: listFile,
    OUTPUT_DIR: out,
    MAX_CONCURRENCY: String(CONCURRENCY),
    PER_HOST_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: 'INFO',
  });
  if (r.code !== 0) throw new Error(`downloader failed (${r.code}): ${r.stderr.slice(0, 500)}`);
  const summary = roundSummary(r.stdout);
  if (summary.new !== count) throw new Error(`downloader stored ${summary.new} of ${count}`);
  await rm(out, { recursive: true, force: true });
  await settleDisk();
  // from the round's first log line to its summary, to the millisecond (the summary's own figure has 0.1 s steps)
  const started = JSON.parse(r.stdout.split('\n').find((l) => l.includes('round started')) ?? '{}');
  const roundS = (Date.parse(summary.time) - Date.parse(started.time)) / 1000;
  return {
    roundS: roundS > 0 ? roundS : summary.seconds,
    wallS: r.ms / 1000,
    roundCpuS: summary.cpuSeconds,
    peakRssMB: peakRssMB(r.stderr),
  };
}

function peakRssMB(timeOutput: string): number {
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timeOutput)?.[1]);
  if (!kb) throw new Error(`no peak RSS from /usr/bin/time -v: ${timeOutput.slice(-500)}`);
  return kb / 1024;
}

async function throughput(quick: boolean, dir: string): Promise<BenchFigure[]> {
  const count = quick ? 500 : 2000;
  // the machine is shared: one repetition is mostly noise even in a quick run; an even count, so that each goes first
  // as often as the other
  const reps = quick ? 2 : 4;
  const pictures = makePictures(count, 20 * 1024, 120 * 1024);
  const totalMB = pictures.reduce((s, b) => s + b.length, 0) / 1e6;
  const server = await startServer(pictures, 'latency');
  try {
    const urls = pictures.map((_, i) => `${server.base}/img/${i}.jpg`);
    const listFile = path.join(dir, 'urls.txt');
    await writeFile(listFile, `${urls.join('\n')}\n`);
    await curlRun(urls.slice(0, 100), dir); // warm-up: server JIT, connections
    const curl: number[] = [];
    const round: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < reps; i++) {
      // each goes first in every other repetition, and each run starts after a sync
      const runCurl = async () => {
        curl.push(count / (await curlRun(urls, dir)).wallS);
      };
      const runDownloader = async () => {
        const d = await downloaderRun(listFile, dir, count);
        round.push(count / d.roundS);
        wall.push(count / d.wallS);
      };
      if (i % 2 === 0) {
        await runCurl();
        await runDownloader();
      } else {
        await runDownloader();
        await runCurl();
      }
      process.stderr.write(`  #${i + 1}: curl ${curl[i].toFixed(0)} img/s, downloader ${round[i].toFixed(0)} img/s\n`);
    }
    const base = { name: `curl --parallel --parallel-max ${CONCURRENCY}`, value: median(curl) };
    const what = `${count} pictures (${totalMB.toFixed(0)} MB), ${LATENCY_MS} ms before each response, concurrency ${CONCURRENCY}`;
    return [
      {
        name: `downloader round throughput, ${what}`,
        value: median(round),
        unit: 'img/s',
        baseline: base,
        ratio: median(round) / base.value,
        target: '≥ 0.9',
        samples: round,
      },
      {
        name: `downloader throughput incl. process start, ${what}`,
        value: median(wall),
        unit: 'img/s',
        baseline: base,
        ratio: median(wall) / base.value,
        samples: wall,
      },
    ];
  } finally {
    await server.close();
  }
}

/** Peak RSS of a round whose 32 downloads at a time all come one byte a write. */
async function oneByteRss(quick: boolean, dir: string): Promise<BenchFigure[]> {
  const count = quick ? 32 : 64;
  const pictures = makePictures(count, 16 * 1024, 32 * 1024);
  const server = await startServer(pictures, 'one-byte');
  try {
    const listFile = path.join(dir, 'one-byte-urls.txt');
    const urls = pictures.map((_, i) => `${server.base}/img/${i}.jpg`);
    await writeFile(listFile, `${urls.join('\n')}\n`);
    const d = await downloaderRun(listFile, dir, count);
    const kb = pictures.reduce((s, b) => s + b.length, 0) / 1024;
    return [
      {
        name: `peak RSS, ${CONCURRENCY} downloads in flight, ${count} pictures (${kb.toFixed(0)} KB) sent one byte a write`,
        value: d.peakRssMB,
        unit: 'MB',
        target: '< 300 MB',
      },
    ];
  } finally {
    await server.close();
  }
}

/**
 * A list, a journal saying every URL is done and the (empty) pictures, as a long-running install would have: a done
 * record is trusted only while its file is there, so the round lists OUTPUT_DIR.
 */
async function writeDoneState(lines: number, listFile: string, outDir: string): Promise<void> {
  await mkdir(path.join(outDir, '.downloader'), { recursive: true });
  const list = createWriteStream(listFile);
  const journal = createWriteStream(path.join(outDir, '.downloader', 'records.jsonl'));
  const at = new Date().toISOString();
  let listChunk: string[] = [];
  let journalChunk: string[] = [];
  const flush = async () => {
    list.write(listChunk.join(''));
    journal.write(journalChunk.join(''));
    listChunk = [];
    journalChunk = [];
    // checked after each wait: a drain that came while waiting for the other stream is not waited for again
    if (list.writableNeedDrain) await once(list, 'drain');
    if (journal.writableNeedDrain) await once(journal, 'drain');
  };
  for (let i = 0; i < lines; i++) {
    const url = `https://images${i % 50}.example.com/photos/2024/${i}/picture-${i}.jpg`;
    const key = createHash('sha1').update(url).digest('hex').slice(0, 16);
    closeSync(openSync(path.join(outDir, `${key}.jpg`), 'w'));
    listChunk.push(`${url}\n`);
    const fields = {
      bytes: 123456,
      content_type: 'image/jpeg',
      final_url: url,
      attempts: 1,
      error: null,
      detail: null,
    };
    journalChunk.push(formatRecord({ key, status: 'done', url, file: `${key}.jpg`, ...fields, permanent: false, at }));
    if (listChunk.length === 10_000) await flush();
  }
  await flush();
  await Promise.all([new Promise<void>((r) => list.end(() => r())), new Promise<void>((r) => journal.end(() => r()))]);
}

async function doneRoundRss(quick: boolean, dir: string): Promise<BenchFigure[]> {
  const lines = quick ? 200_000 : 1_000_000;
  const listFile = path.join(dir, 'done-urls.txt');
  const out = path.join(dir, 'done-out');
  await writeDoneState(lines, listFile, out);
  const r = await run('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', MAIN, '--once'], {
    ...process.env,
    URL_FILE: listFile,
    OUTPUT_DIR: out,
    // a round with nothing to fetch logs its summary at debug level
    LOG_LEVEL: 'DEBUG',
  });
  if (r.code !== 0) throw new Error(`downloader failed (${r.code}): ${r.stderr.slice(-1000)}`);
  const summary = roundSummary(r.stdout);
  if (summary.alreadyThere !== lines || summary.new !== 0) {
    throw new Error(`expected ${lines} already there and nothing new, got ${JSON.stringify(summary)}`);
  }
  const label = `${lines.toLocaleString('en')} URLs all done`;
  return [
    { name: `peak RSS, a round over ${label}`, value: peakRssMB(r.stderr), unit: 'MB', target: '< 400 MB' },
    { name: `round time, ${label}`, value: summary.seconds, unit: 's' },
    { name: `process time incl. start and journal load, ${label}`, value: r.ms / 1000, unit: 's' },
  ];
}

export async function run_(opts: BenchOptions): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-downloader-'));
  try {
    return [
      ...(await throughput(opts.quick, dir)),
      ...(await oneByteRss(opts.quick, dir)),
      ...(await doneRoundRss(opts.quick, dir)),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export { run_ as run };

await runIfMain(import.meta.url, run_);
