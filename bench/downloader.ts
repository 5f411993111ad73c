// Downloader benchmark. (1) Throughput against a loopback server holding 5,000 pictures of 50–200 KB at concurrency
// 32, divided by `curl --parallel --parallel-max 32` on the same list in the same run (target ≥ 0.8). (2) Peak RSS
// of a round over a 1,000,000-line list whose URLs are all already done (target < 400 MB). Beside throughput, CPU
// per picture (the round's, from its summary line, against curl's whole process), which a busy machine disturbs less.
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
import { runIfMain } from './standalone.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(ROOT, 'services/downloader/src/main.ts');
const CONCURRENCY = 32;

const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Random-ish bodies that start like JPEG or PNG files: the downloader checks magic bytes, not pixels. */
function makePictures(count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = 50 * 1024 + Math.floor(Math.random() * 150 * 1024);
    const body = randomBytes(size);
    (i % 2 === 0 ? JPEG_HEAD : PNG_HEAD).copy(body, 0);
    out.push(body);
  }
  return out;
}

async function startServer(pictures: Buffer[]): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const m = /^\/img\/(\d+)\.(jpg|png)$/.exec(req.url ?? '');
    const body = m ? pictures[Number(m[1])] : undefined;
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': m?.[2] === 'jpg' ? 'image/jpeg' : 'image/png',
      'content-length': body.length,
    });
    res.end(body);
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
): Promise<{ roundS: number; wallS: number; roundCpuS: number }> {
  const out = path.join(dir, 'downloader-out');
  await rm(out, { recursive: true, force: true });
  const r = await run(process.execPath, ['--import', 'tsx', MAIN, '--once'], {
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
  return { roundS: roundS > 0 ? roundS : summary.seconds, wallS: r.ms / 1000, roundCpuS: summary.cpuSeconds };
}

interface Storage {
  label: string;
  dir: string;
}

/** The system temp folder (a disk, as deployed) and, where there is one, tmpfs (no disk: the CPU cost alone). */
async function storages(dir: string): Promise<Storage[]> {
  const out: Storage[] = [{ label: 'to disk', dir }];
  const shm = await mkdtemp('/dev/shm/bench-downloader-').catch(() => undefined);
  if (shm) out.push({ label: 'to tmpfs', dir: shm });
  return out;
}

async function throughput(quick: boolean, dir: string): Promise<BenchFigure[]> {
  const count = quick ? 500 : 5000;
  // the machine is shared: one repetition is mostly noise even in a quick run; an even count, so that each goes first
  // as often as the other
  const reps = quick ? 2 : 6;
  const pictures = makePictures(count);
  const totalMB = pictures.reduce((s, b) => s + b.length, 0) / 1e6;
  const server = await startServer(pictures);
  const figures: BenchFigure[] = [];
  try {
    const urls = pictures.map((_, i) => `${server.base}/img/${i}.${i % 2 === 0 ? 'jpg' : 'png'}`);
    const listFile = path.join(dir, 'urls.txt');
    await writeFile(listFile, `${urls.join('\n')}\n`);
    await curlRun(urls.slice(0, 100), dir); // warm-up: server JIT, connections
    for (const storage of await storages(dir)) {
      try {
        const curl: number[] = [];
        const round: number[] = [];
        const wall: number[] = [];
        const curlCpu: number[] = [];
        const roundCpu: number[] = [];
        for (let i = 0; i < reps; i++) {
          // Each goes first in every other repetition, and each run starts after a sync: a run pays for what the one
          // before left (dirty pages being written back, a disk's discards of the files just deleted), which on a disk
          // was most of the noise.
          const runCurl = async () => {
            const c = await curlRun(urls, storage.dir);
            curl.push(count / c.wallS);
            curlCpu.push((c.cpuS / count) * 1000); // ms a picture
          };
          const runDownloader = async () => {
            const d = await downloaderRun(listFile, storage.dir, count);
            round.push(count / d.roundS);
            wall.push(count / d.wallS);
            roundCpu.push((d.roundCpuS / count) * 1000);
          };
          if (i % 2 === 0) {
            await runCurl();
            await runDownloader();
          } else {
            await runDownloader();
            await runCurl();
          }
          process.stderr.write(
            `  ${storage.label} #${i + 1}: curl ${curl[i].toFixed(0)} img/s (${curlCpu[i].toFixed(2)} ms CPU a picture), ` +
              `downloader ${round[i].toFixed(0)} img/s (${roundCpu[i].toFixed(2)} ms CPU a picture)\n`,
          );
        }
        const base = { name: `curl --parallel --parallel-max ${CONCURRENCY}`, value: median(curl) };
        const what = `${count} pictures (${totalMB.toFixed(0)} MB) from loopback ${storage.label}, concurrency ${CONCURRENCY}`;
        figures.push(
          {
            name: `downloader round throughput, ${what}`,
            value: median(round),
            unit: 'img/s',
            baseline: base,
            ratio: median(round) / base.value,
            target: '≥ 0.8',
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
          // On a shared machine throughput follows the CPU share each process gets; CPU per picture does not.
          // Ratio as for throughput: curl's cost over ours (1 = as cheap as curl).
          {
            name: `downloader round CPU a picture, ${what}`,
            value: median(roundCpu),
            unit: 'ms',
            baseline: { name: `curl --parallel --parallel-max ${CONCURRENCY}, whole process`, value: median(curlCpu) },
            ratio: median(curlCpu) / median(roundCpu),
            samples: roundCpu,
          },
        );
      } finally {
        if (storage.dir !== dir) await rm(storage.dir, { recursive: true, force: true });
      }
    }
    return figures;
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
    journalChunk.push(
      `${JSON.stringify({ key, status: 'done', url, file: `${key}.jpg`, bytes: 123456, content_type: 'image/jpeg', final_url: url, attempts: 1, error: null, detail: null, permanent: false, at })}\n`,
    );
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
    LOG_LEVEL: 'INFO',
  });
  if (r.code !== 0) throw new Error(`downloader failed (${r.code}): ${r.stderr.slice(-1000)}`);
  const summary = roundSummary(r.stdout);
  if (summary.alreadyThere !== lines || summary.new !== 0) {
    throw new Error(`expected ${lines} already there and nothing new, got ${JSON.stringify(summary)}`);
  }
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const label = `${lines.toLocaleString('en')} URLs all done`;
  return [
    { name: `peak RSS, a round over ${label}`, value: kb / 1024, unit: 'MB', target: '< 400 MB' },
    { name: `round time, ${label}`, value: summary.seconds, unit: 's' },
    { name: `process time incl. start and journal load, ${label}`, value: r.ms / 1000, unit: 's' },
  ];
}

export async function run_(opts: BenchOptions): Promise<BenchFigure[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-downloader-'));
  try {
    return [...(await throughput(opts.quick, dir)), ...(await doneRoundRss(opts.quick, dir))];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export { run_ as run };

await runIfMain(import.meta.url, run_);
