// Search API speed with the synthetic rn50 model over 10,000 indexed vectors, the API running as its own process
// (`services/search-api/src/main.ts`, as `pnpm search-api` runs it):
// - uncached GET /search/text p50 and p99 ÷ (text-tower p50 + raw Elasticsearch kNN p50), interleaved in one run
//   (issue 6: ≤ 1.15) — what the API adds on top of the two things it must do;
// - p50 of a cached query (≤ 5 ms);
// - throughput and errors with 32 concurrent clients for 30 s, every query distinct (so every one runs the model);
// - issue 10's "before and after": the same API with the text encoder forced to pad every query to 77 tokens (a copy
//   of the model folder whose model.json says dynamicTextLength: false), interleaved with the trimming one.
// The index (bench/rn50-index.ts, shared with bench/ui.ts) is kept and reused by the next run.
// `pnpm exec tsx bench/search-api.ts [--quick]`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClipModel, ensureSyntheticModel, loadModel } from '@image-search/clip';
import { loadSearchApiConfig } from '@image-search/config';
import { isElasticsearchUp, startLocalElasticsearch } from '@image-search/local-elasticsearch';
import { knnRequest } from '@image-search/search-index';
import { knnSettings } from '../services/search-api/src/knn-settings.ts';
import { BENCH_DOCS, ensureBenchIndex } from './rn50-index.ts';
import { runIfMain } from './standalone.ts';
import { median, quantile } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL_CACHE = path.join(os.tmpdir(), 'image-search-models', 'rn50');
const K = 10;
const CLIENTS = 32;

const round2 = (x: number) => Math.round(x * 100) / 100;

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

/**
 * A copy of the model folder that differs only in `dynamicTextLength: false`, so the text encoder feeds every query
 * padded to the full context length, as before issue 10. The ONNX files and vocabulary are symlinked, not copied.
 */
async function paddedModelDir(modelDir: string, into: string): Promise<string> {
  const dir = path.join(into, 'padded-model');
  await mkdir(dir);
  const manifest = JSON.parse(await readFile(path.join(modelDir, 'model.json'), 'utf8'));
  for (const file of Object.values(manifest.files as Record<string, string>)) {
    await symlink(path.join(modelDir, file), path.join(dir, file));
  }
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...manifest, dynamicTextLength: false }, null, 2));
  return dir;
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

function request(agent: http.Agent, url: string, opts: { method?: string; body?: string } = {}): Promise<HttpResult> {
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

interface Api {
  base: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts `services/search-api/src/main.ts` as `pnpm search-api` would, and waits until /readyz says ready. */
async function startApi(agent: http.Agent, env: Record<string, string>): Promise<Api> {
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
  const api: Api = {
    base: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`search-api exited with ${child.exitCode}: ${stderr.trim()}`);
    const ready = await request(agent, `${api.base}/readyz`).catch(() => null);
    if (ready?.status === 200) return api;
    if (Date.now() > deadline) {
      await api.stop();
      throw new Error(`search-api did not become ready: ${ready?.body ?? stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const log = (s: string) => process.stderr.write(`[search-api bench] ${s}\n`);
  const esHost = (process.env.ES_HOST ?? 'http://127.0.0.1:9200').replace(/\/+$/, '');
  let stopEs: (() => Promise<void>) | undefined;
  if (!(await isElasticsearchUp(esHost))) {
    const local = await startLocalElasticsearch({ port: Number(new URL(esHost).port || 9200) });
    if (local.startedByUs) stopEs = local.stop;
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'search-api-bench-'));
  const apis: Api[] = [];
  let model: ClipModel | undefined;
  try {
    const modelDir = await ensureSyntheticModel('rn50', MODEL_CACHE);
    const { alias, setupMs } = await ensureBenchIndex(esHost, modelDir, log);
    const env = { ES_HOST: esHost, ES_INDEX: alias, IMAGES_DIR: folder, THUMBNAILS_DIR: folder };
    // Both APIs start together (loading is mostly waiting on files); requests to them never overlap below.
    const started = await Promise.allSettled([
      startApi(agent, { ...env, MODEL_DIR: modelDir }),
      paddedModelDir(modelDir, folder).then((dir) => startApi(agent, { ...env, MODEL_DIR: dir })),
    ]);
    for (const s of started) if (s.status === 'fulfilled') apis.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [api, padded] = apis;
    model = await loadModel(modelDir, { device: 'cpu' });
    const tower = model.text;
    const { numCandidates } = knnSettings(loadSearchApiConfig({}));

    const all = queries();
    let nextQuery = 0;
    const fresh = () => all[nextQuery++ % all.length];
    const searchUrl = (base: string, q: string) => `${base}/search/text?q=${encodeURIComponent(q)}&k=${K}`;
    // Exactly the request the API sends (search-index's knnRequest): the same path, response filter and body.
    const rawKnn = (vector: Float32Array) => {
      const req = knnRequest(alias, { vector, k: K, numCandidates });
      return { url: `${esHost}${req.path}`, body: req.body };
    };
    const search = async (base: string, q: string) => {
      const res = await request(agent, searchUrl(base, q));
      if (res.status !== 200) throw new Error(`search failed: ${res.status} ${res.body.slice(0, 200)}`);
      return res;
    };

    // Warm-up: every path once, so no figure pays for first-use costs.
    await tower.embed(['warm up']);
    for (let i = 0; i < 5; i++) {
      const q = fresh();
      await search(api.base, q);
      await search(padded.base, q);
    }

    // Interleaved: text tower (this process, same model and threads), raw kNN (the API's own request body straight
    // to Elasticsearch), then the API with the same query text, which it has never seen, then the padding API with it.
    const reps = opts.quick ? 40 : 200;
    const towerMs: number[] = [];
    const knn: number[] = [];
    const apiMs: number[] = [];
    const paddedMs: number[] = [];
    const apiEmbed: number[] = [];
    const apiKnn: number[] = [];
    const paddedEmbed: number[] = [];
    for (let i = 0; i < reps; i++) {
      const q = fresh();
      let vector!: Float32Array;
      towerMs.push(
        await timedMs(async () => {
          [vector] = await tower.embed([q]);
        }),
      );
      const { url: knnUrl, body } = rawKnn(vector);
      knn.push(
        await timedMs(async () => {
          const res = await request(agent, knnUrl, { method: 'POST', body });
          if (res.status !== 200) throw new Error(`raw kNN failed: ${res.status} ${res.body.slice(0, 200)}`);
        }),
      );
      apiMs.push(
        await timedMs(async () => {
          const res = await search(api.base, q);
          apiEmbed.push(serverTiming(res.timing, 'embed'));
          apiKnn.push(serverTiming(res.timing, 'knn'));
        }),
      );
      paddedMs.push(
        await timedMs(async () => {
          const res = await search(padded.base, q);
          paddedEmbed.push(serverTiming(res.timing, 'embed'));
        }),
      );
    }
    const paddedExit = await padded.stop();
    if (paddedExit !== 0) log(`padding search-api exited with ${paddedExit} after SIGTERM`);

    // Cached: a query the API has answered, repeated; beside it, raw kNN with that query's vector, repeated.
    const repeated = all[0];
    const [repeatedVector] = await tower.embed([repeated]);
    const repeatedKnn = rawKnn(repeatedVector);
    const cached: number[] = [];
    const knnRepeated: number[] = [];
    for (let i = 0; i < reps; i++) {
      cached.push(await timedMs(() => search(api.base, repeated)));
      knnRepeated.push(
        await timedMs(() => request(agent, repeatedKnn.url, { method: 'POST', body: repeatedKnn.body })),
      );
    }

    // The HTTP floor: a route that does no work, for reading the other figures.
    const floor: number[] = [];
    for (let i = 0; i < reps; i++) floor.push(await timedMs(() => request(agent, `${api.base}/healthz`)));

    // Load: CLIENTS loops, each sending distinct queries back to back until the time is up.
    const seconds = opts.quick ? 5 : 30;
    const deadline = performance.now() + seconds * 1000;
    let ok = 0;
    const failures = new Map<string, number>();
    const loadMs: number[] = [];
    const loadStart = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        let n = 0;
        while (performance.now() < deadline) {
          const q = `${fresh()} ${c} ${n++}`;
          const t0 = performance.now();
          try {
            const res = await request(agent, searchUrl(api.base, q));
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
    const elapsed = (performance.now() - loadStart) / 1000;
    const errors = [...failures.values()].reduce((a, b) => a + b, 0);
    for (const [what, n] of failures) log(`error ×${n}: ${what}`);

    const exitCode = await api.stop();
    if (exitCode !== 0) log(`search-api exited with ${exitCode} after SIGTERM`);

    const towerP50 = median(towerMs);
    const knnP50 = median(knn);
    const baseline = { name: 'text tower p50 + raw ES kNN p50', value: round2(towerP50 + knnP50) };
    const apiP50 = median(apiMs);
    const apiP99 = quantile(apiMs, 0.99);
    const paddedP50 = median(paddedMs);
    const figures: BenchFigure[] = [
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
        value: round2(quantile(towerMs, 0.99) + quantile(knn, 0.99)),
        unit: 'ms',
      },
      {
        // Medians do not add: with long tails the median of a sum exceeds the sum of the medians. This baseline is
        // the median of (tower + kNN) per query, the work the API must do for that very request.
        name: 'uncached GET /search/text p50 vs per-query (tower + kNN) p50',
        value: round2(apiP50),
        unit: 'ms',
        baseline: {
          name: 'p50 of tower + raw kNN per query',
          value: round2(median(towerMs.map((t, i) => t + knn[i]))),
        },
        ratio: round2(apiP50 / median(towerMs.map((t, i) => t + knn[i]))),
      },
      {
        // Issue 10, before and after: ratio = how many times slower the same API is when it pads to 77 tokens.
        name: 'uncached GET /search/text p50, text trimmed to its tokens (4-word queries)',
        value: round2(apiP50),
        unit: 'ms',
        baseline: { name: 'same API, text padded to 77 tokens, p50', value: round2(paddedP50) },
        ratio: round2(paddedP50 / apiP50),
        target: 'trimmed faster than padded',
      },
      { name: 'API embed p50 (its Server-Timing)', value: round2(median(apiEmbed)), unit: 'ms' },
      {
        name: 'API embed p50, padded to 77 tokens (its Server-Timing)',
        value: round2(median(paddedEmbed)),
        unit: 'ms',
      },
      { name: 'API kNN p50 (its Server-Timing)', value: round2(median(apiKnn)), unit: 'ms' },
      { name: 'text tower p50 (rn50, in process)', value: round2(towerP50), unit: 'ms', samples: towerMs.map(round2) },
      {
        name: `raw ES kNN p50 (${BENCH_DOCS / 1000}k × ${model.manifest.embedDim}, k ${K})`,
        value: round2(knnP50),
        unit: 'ms',
        samples: knn.map(round2),
      },
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
    if (setupMs > 0) {
      figures.push({
        name: `build the ${BENCH_DOCS / 1000}k-document index (setup)`,
        value: Math.round(setupMs),
        unit: 'ms',
      });
    }
    return figures;
  } finally {
    await Promise.all(apis.map((a) => a.stop()));
    await model?.close();
    await rm(folder, { recursive: true, force: true });
    agent.destroy();
    await stopEs?.();
  }
}

await runIfMain(import.meta.url, run);
