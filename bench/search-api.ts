// Search API speed with the synthetic rn50 model over 10,000 indexed vectors, the API running as its own process
// (`services/search-api/src/main.ts`, as `pnpm search-api` runs it):
// - uncached GET /search/text p50 and p99 ÷ (text-tower p50 + raw Elasticsearch kNN p50), interleaved in one run
//   (issue 6: ≤ 1.15) — what the API adds on top of the two things it must do;
// - p50 of a cached query (≤ 5 ms);
// - throughput and errors with 32 concurrent clients for 30 s, every query distinct (so every one runs the model).
// `pnpm exec tsx bench/search-api.ts [--quick] [--keep]` (--keep leaves the 10,000-vector index for the next run).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClipModel, ensureSyntheticModel, loadModel } from '@image-search/clip';
import { loadSearchApiConfig } from '@image-search/config';
import {
  bulkWrite,
  type Client,
  createClient,
  ensureModelIndex,
  type ImageDoc,
  indexInfo,
  knnRequest,
  refreshIndex,
} from '@image-search/search-index';
import { isElasticsearchUp, startLocalElasticsearch } from '../scripts/es/local-es.ts';
import { median, quantile } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL_CACHE = path.join(os.tmpdir(), 'image-search-models', 'rn50');
const ALIAS = 'bench-search-api-rn50';
const DOCS = 10_000;
const K = 10;
const CLIENTS = 32;

const round2 = (x: number) => Math.round(x * 100) / 100;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** Distinct 4-word queries (so none is served from the API's cache), all about as long as a real query. */
function queries(): string[] {
  const adj = ['red', 'blue', 'green', 'yellow', 'old', 'small', 'shiny', 'wet', 'dusty', 'bright', 'dark', 'white'];
  const noun = ['car', 'dog', 'house', 'boat', 'bicycle', 'cat', 'tree', 'bridge', 'train', 'horse', 'chair', 'lamp'];
  const place = ['street', 'beach', 'forest', 'kitchen', 'garden', 'field', 'harbour', 'market', 'desert', 'river'];
  const when = ['morning', 'night', 'winter', 'summer', 'rain', 'snow', 'sunset', 'fog', 'spring', 'autumn'];
  const out: string[] = [];
  for (const w of when)
    for (const p of place) for (const n of noun) for (const a of adj) out.push(`${a} ${n} ${p} ${w}`);
  // A fixed shuffle, so consecutive queries differ in every word.
  let s = 42;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function randomUnitVector(dims: number, next: () => number): number[] {
  const v = new Array<number>(dims);
  let sum = 0;
  for (let i = 0; i < dims; i++) {
    // Sum of uniforms ≈ normal: directions spread evenly over the sphere.
    const x = next() + next() + next() - 1.5;
    v[i] = x;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  return v.map((x) => x / norm);
}

async function ensureIndex(es: Client, dims: number, log: (s: string) => void): Promise<string> {
  const cfg = loadSearchApiConfig({});
  const { index } = await ensureModelIndex(es, {
    alias: ALIAS,
    model: 'RN50/synthetic',
    dims,
    hnswM: cfg.HNSW_M,
    hnswEf: cfg.HNSW_EF,
    vectorIndexType: cfg.VECTOR_INDEX_TYPE,
    shards: 1,
    replicas: 0,
  });
  const info = await indexInfo(es, ALIAS);
  if (info.docCount === DOCS) {
    log(`reusing ${index} (${DOCS} documents)`);
    return index;
  }
  let seed = 7;
  const next = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const t0 = performance.now();
  for (let start = 0; start < DOCS; start += 200) {
    const ops = Array.from({ length: Math.min(200, DOCS - start) }, (_, j) => {
      const n = start + j;
      const id = `bench-${n.toString().padStart(5, '0')}`;
      const doc: ImageDoc = {
        path: `${id}.jpg`,
        vector: randomUnitVector(dims, next),
        file_name: `${id}.jpg`,
        source_url: `https://example.com/${id}.jpg`,
        width: 640,
        height: 480,
        bytes: 50_000,
        content_type: 'image/jpeg',
        model: 'RN50/synthetic',
        indexed_at: new Date().toISOString(),
        thumbnail: `${id}.webp`,
      };
      return { id, doc };
    });
    const res = await bulkWrite(es, index, ops);
    if (res.failed.length > 0) throw new Error(`indexing failed: ${JSON.stringify(res.failed[0])}`);
  }
  await refreshIndex(es, index);
  // One segment: the graph a long-running index converges to, and kNN times that do not depend on merge timing.
  await es.indices.forcemerge({ index, max_num_segments: 1 }, { requestTimeout: 900_000 });
  log(`indexed ${DOCS} vectors of ${dims} dims in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return index;
}

interface HttpResult {
  status: number;
  body: string;
  timing: string;
}

/** One duration from a Server-Timing header, e.g. ('embed;dur=7.10, knn;dur=3.2', 'knn') → 3.2. */
function serverTiming(header: string, name: string): number {
  const m = new RegExp(`(?:^|, )${name};dur=([\\d.]+)`).exec(header);
  return m ? Number(m[1]) : Number.NaN;
}

function request(url: string, opts: { method?: string; body?: string } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        agent,
        method: opts.method ?? 'GET',
        headers: opts.body ? { 'Content-Type': 'application/json' } : undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, timing: String(res.headers['server-timing'] ?? '') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function startApi(
  env: Record<string, string>,
): Promise<{ base: string; child: ChildProcess; stop(): Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'services/search-api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, API_HOST: '127.0.0.1', API_PORT: String(port), LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`search-api exited with ${child.exitCode}: ${stderr.trim()}`);
    const ready = await request(`${base}/readyz`).catch(() => null);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`search-api did not become ready: ${ready?.body ?? stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    child,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(opts: BenchOptions & { keep?: boolean }): Promise<BenchFigure[]> {
  const log = (s: string) => process.stderr.write(`[search-api bench] ${s}\n`);
  const esHost = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
  let stopEs: (() => Promise<void>) | undefined;
  if (!(await isElasticsearchUp(esHost))) {
    const local = await startLocalElasticsearch({ port: Number(new URL(esHost).port || 9200) });
    if (local.startedByUs) stopEs = local.stop;
  }
  // Building the HNSW graph of 1024-dim vectors (ef_construction 512) on a busy machine can take minutes per bulk.
  const es = createClient({ ES_HOST: esHost }).child({ requestTimeout: 600_000 });
  const modelDir = await ensureSyntheticModel('rn50', MODEL_CACHE);
  const model: ClipModel = await loadModel(modelDir, { device: 'cpu' });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'search-api-bench-'));
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  let index: string | undefined;
  try {
    index = await ensureIndex(es, model.manifest.embedDim, log);
    api = await startApi({
      ES_HOST: esHost,
      ES_INDEX: ALIAS,
      MODEL_DIR: modelDir,
      IMAGES_DIR: folder,
      THUMBNAILS_DIR: folder,
    });
    const all = queries();
    let nextQuery = 0;
    const fresh = () => all[nextQuery++ % all.length];
    const searchUrl = (q: string) => `${api!.base}/search/text?q=${encodeURIComponent(q)}&k=${K}`;
    const esUrl = `${esHost}/${ALIAS}/_search`;
    // Exactly the body the API sends (search-index's knnRequest), minus the index name that goes in the URL.
    const rawKnnBody = (vector: Float32Array) => {
      const { index: _, ...body } = knnRequest(ALIAS, { vector, k: K, numCandidates: 100 });
      return JSON.stringify(body);
    };

    // Warm-up: every path once, so no figure pays for first-use costs.
    await model.text.embed(['warm up']);
    for (let i = 0; i < 5; i++) await request(searchUrl(fresh()));

    // Interleaved: text tower (this process, same model and threads), raw kNN (the API's own request body straight
    // to Elasticsearch), then the API with the same query text, which it has never seen.
    const reps = opts.quick ? 40 : 200;
    const tower: number[] = [];
    const knn: number[] = [];
    const apiMs: number[] = [];
    const apiEmbed: number[] = [];
    const apiKnn: number[] = [];
    for (let i = 0; i < reps; i++) {
      const q = fresh();
      let vector!: Float32Array;
      tower.push(
        await timedMs(async () => {
          [vector] = await model.text.embed([q]);
        }),
      );
      const body = rawKnnBody(vector);
      knn.push(
        await timedMs(async () => {
          const res = await request(esUrl, {
            method: 'POST',
            body,
          });
          if (res.status !== 200) throw new Error(`raw kNN failed: ${res.status} ${res.body.slice(0, 200)}`);
        }),
      );
      apiMs.push(
        await timedMs(async () => {
          const res = await request(searchUrl(q));
          if (res.status !== 200) throw new Error(`search failed: ${res.status} ${res.body.slice(0, 200)}`);
          apiEmbed.push(serverTiming(res.timing, 'embed'));
          apiKnn.push(serverTiming(res.timing, 'knn'));
        }),
      );
    }

    // Cached: a query the API has answered, repeated; beside it, raw kNN with that query's vector, repeated.
    const repeated = all[0];
    const [repeatedVector] = await model.text.embed([repeated]);
    const repeatedBody = rawKnnBody(repeatedVector);
    const cached: number[] = [];
    const knnRepeated: number[] = [];
    for (let i = 0; i < reps; i++) {
      cached.push(await timedMs(() => request(searchUrl(repeated))));
      knnRepeated.push(await timedMs(() => request(esUrl, { method: 'POST', body: repeatedBody })));
    }

    // The HTTP floor: a route that does no work, for reading the other figures.
    const floor: number[] = [];
    for (let i = 0; i < reps; i++) floor.push(await timedMs(() => request(`${api!.base}/healthz`)));

    // Load: CLIENTS loops, each sending distinct queries back to back until the time is up.
    const seconds = opts.quick ? 5 : 30;
    const deadline = performance.now() + seconds * 1000;
    let ok = 0;
    const failures = new Map<string, number>();
    const loadMs: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        let n = 0;
        while (performance.now() < deadline) {
          const q = `${fresh()} ${c} ${n++}`;
          const t0 = performance.now();
          try {
            const res = await request(searchUrl(q));
            if (res.status === 200) {
              ok++;
              loadMs.push(performance.now() - t0);
            } else {
              const key = `${res.status} ${res.body.slice(0, 80)}`;
              failures.set(key, (failures.get(key) ?? 0) + 1);
            }
          } catch (err) {
            const key = (err as Error).message;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const errors = [...failures.values()].reduce((a, b) => a + b, 0);
    for (const [what, n] of failures) log(`error ×${n}: ${what}`);

    const exitCode = await api.stop();
    api = undefined;
    if (exitCode !== 0) log(`search-api exited with ${exitCode} after SIGTERM`);

    const towerP50 = median(tower);
    const knnP50 = median(knn);
    const baseline = { name: 'text tower p50 + raw ES kNN p50', value: round2(towerP50 + knnP50) };
    const apiP50 = median(apiMs);
    const apiP99 = quantile(apiMs, 0.99);
    return [
      {
        name: 'uncached GET /search/text p50',
        value: round2(apiP50),
        unit: 'ms',
        baseline,
        ratio: round2(apiP50 / baseline.value),
        target: '≤ 1.15',
        samples: apiMs.map(round2),
      },
      {
        name: 'uncached GET /search/text p99',
        value: round2(apiP99),
        unit: 'ms',
        baseline,
        ratio: round2(apiP99 / baseline.value),
      },
      {
        // The same percentile of the parts, for telling the API's own tail from the machine's.
        name: 'text tower p99 + raw ES kNN p99',
        value: round2(quantile(tower, 0.99) + quantile(knn, 0.99)),
        unit: 'ms',
      },
      {
        // Medians do not add: with long tails the median of a sum exceeds the sum of the medians. This baseline is
        // the median of (tower + kNN) per query, the work the API must do for that very request.
        name: 'uncached GET /search/text p50 vs per-query (tower + kNN) p50',
        value: round2(apiP50),
        unit: 'ms',
        baseline: { name: 'p50 of tower + raw kNN per query', value: round2(median(tower.map((t, i) => t + knn[i]))) },
        ratio: round2(apiP50 / median(tower.map((t, i) => t + knn[i]))),
      },
      { name: 'API embed p50 (its Server-Timing)', value: round2(median(apiEmbed)), unit: 'ms' },
      { name: 'API kNN p50 (its Server-Timing)', value: round2(median(apiKnn)), unit: 'ms' },
      { name: 'text tower p50 (rn50, in process)', value: round2(towerP50), unit: 'ms', samples: tower.map(round2) },
      { name: 'raw ES kNN p50 (10k × 1024, k 10)', value: round2(knnP50), unit: 'ms', samples: knn.map(round2) },
      {
        name: 'cached GET /search/text p50',
        value: round2(median(cached)),
        unit: 'ms',
        target: '≤ 5 ms',
        baseline: { name: 'raw ES kNN p50, same vector repeated', value: round2(median(knnRepeated)) },
        ratio: round2(median(cached) / median(knnRepeated)),
        samples: cached.map(round2),
      },
      { name: 'GET /healthz p50 (HTTP round trip, no work)', value: round2(median(floor)), unit: 'ms' },
      {
        name: `throughput, ${CLIENTS} clients × ${seconds} s, distinct queries`,
        value: round2(ok / elapsed),
        unit: 'req/s',
      },
      { name: `p50 latency under ${CLIENTS} clients`, value: round2(median(loadMs)), unit: 'ms' },
      { name: `errors under ${CLIENTS} clients`, value: errors, unit: 'count', target: '= 0' },
    ];
  } finally {
    if (api) await api.stop();
    await model.close();
    if (!opts.keep && index) await es.indices.delete({ index, ignore_unavailable: true });
    await es.close();
    await rm(folder, { recursive: true, force: true });
    agent.destroy();
    await stopEs?.();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await run({ quick: process.argv.includes('--quick'), keep: process.argv.includes('--keep') });
  const rows = figures.map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.baseline ? `${f.baseline.name}: ${f.baseline.value}` : '',
    f.ratio !== undefined ? `${f.ratio}×` : '',
    f.target ?? '',
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
