// `pnpm bench [--quick] [--only a,b]` runs every benchmark program against the local Elasticsearch and writes
// bench/results/<date>-<commit>.json, bench/RESULTS.md and bench/ratios.png.
// `pnpm bench --compare A.json B.json` prints the change of every figure between two result files.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isElasticsearchUp, startLocalElasticsearch } from '@image-search/local-elasticsearch';
import { renderChartPng } from './chart.ts';
import { compareResults, renderMarkdown } from './report.ts';
import type { BenchFigure, BenchProgram } from './types.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');

/** Each area is bench/<area>.ts exporting `run`. Order: cheap and independent first. */
export const AREAS = [
  'clip-preprocess',
  'clip',
  'models',
  'downloader',
  'embedder',
  'search-api',
  'ui',
  'vector-types',
] as const;

export interface AreaResult {
  area: string;
  ok: boolean;
  seconds: number;
  figures: BenchFigure[];
  error?: string;
}

export interface BenchResults {
  date: string;
  commit: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  versions: Record<string, string>;
  areas: AreaResult[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function packageVersion(name: string): Promise<string> {
  for (const dir of ['packages/clip', 'services/search-api', '.']) {
    try {
      const pkg = JSON.parse(await readFile(path.join(ROOT, dir, 'node_modules', name, 'package.json'), 'utf8'));
      return pkg.version;
    } catch {}
  }
  return 'n/a';
}

async function esVersion(host: string): Promise<string> {
  try {
    const res = await fetch(host);
    return ((await res.json()) as { version: { number: string } }).version.number;
  } catch {
    return 'n/a';
  }
}

function readArgs(argv: string[]): { quick: boolean; only?: string[]; compare?: [string, string] } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, compare: { type: 'boolean' } },
    allowPositionals: true,
  });
  const { quick } = values;
  if (values.compare) {
    const [a, b] = positionals;
    if (!a || !b || positionals.length > 2) throw new Error('usage: pnpm bench --compare OLD.json NEW.json');
    return { quick, compare: [a, b] };
  }
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const only = values.only?.split(',').filter(Boolean);
  for (const area of only ?? []) {
    if (!(AREAS as readonly string[]).includes(area)) {
      throw new Error(`unknown benchmark area "${area}": choose from ${AREAS.join(', ')}`);
    }
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  if (args.compare) {
    const [a, b] = await Promise.all(args.compare.map(async (f) => JSON.parse(await readFile(f, 'utf8'))));
    process.stdout.write(compareResults(a as BenchResults, b as BenchResults));
    return;
  }

  const host = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
  process.env.ES_HOST = host;
  let stopEs: (() => Promise<void>) | undefined;
  if (!(await isElasticsearchUp(host))) {
    process.stdout.write(`Elasticsearch is not answering at ${host}; starting the local node…\n`);
    const es = await startLocalElasticsearch({ port: Number(new URL(host).port || 9200) });
    if (es.startedByUs) stopEs = es.stop;
  }

  const results: BenchResults = {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    quick: args.quick,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
    },
    versions: {
      node: process.version,
      elasticsearch: await esVersion(host),
      'onnxruntime-node': await packageVersion('onnxruntime-node'),
      sharp: await packageVersion('sharp'),
      fastify: await packageVersion('fastify'),
    },
    areas: [],
  };

  try {
    for (const area of args.only ?? AREAS) {
      process.stdout.write(`\n== bench ${area}${args.quick ? ' (quick)' : ''}\n`);
      const t0 = performance.now();
      try {
        const mod = (await import(`./${area}.ts`)) as { run: BenchProgram };
        const figures = await mod.run({ quick: args.quick });
        results.areas.push({ area, ok: true, seconds: (performance.now() - t0) / 1000, figures });
      } catch (err) {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        process.stderr.write(`bench ${area} failed: ${message}\n`);
        results.areas.push({ area, ok: false, seconds: (performance.now() - t0) / 1000, figures: [], error: message });
      }
    }
  } finally {
    await stopEs?.();
  }

  const stamp = results.date.slice(0, 19).replace(/[:T]/g, '-');
  const resultsDir = path.join(BENCH_DIR, 'results');
  await mkdir(resultsDir, { recursive: true });
  const jsonPath = path.join(resultsDir, `${stamp}-${results.commit}.json`);
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(BENCH_DIR, 'RESULTS.md'), renderMarkdown(results, path.basename(jsonPath)));
  await writeFile(path.join(BENCH_DIR, 'ratios.png'), await renderChartPng(results));
  process.stdout.write(
    `\n${renderMarkdown(results, path.basename(jsonPath))}\nwrote ${path.relative(ROOT, jsonPath)}, bench/RESULTS.md, bench/ratios.png\n`,
  );
  if (results.areas.some((a) => !a.ok)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
