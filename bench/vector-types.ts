// Every VECTOR_INDEX_TYPE over the same RN50-shaped vectors (1024-d, clustered around a shared direction like image
// embeddings): recall@10 against exact search, kNN p50, and vector bytes per picture from the index's segment files.
// Exact search is computed here over the same float32 vectors: the local node has no Painless for a script_score
// brute force. The float `flat` type, exhaustive inside Elasticsearch, must agree with it (recall 1.0).
// Searched as the search API searches (services/search-api/src/knn-settings.ts): num_candidates and rescore oversample
// from its config, or swept on each index, built once: VECTOR_BENCH_NUM_CANDIDATES (e.g. 100,200,400) and
// VECTOR_BENCH_OVERSAMPLE (e.g. 0,3,5; 0 is without rescoring; default the API's and 0).
// `pnpm bench --only vector-types`; VECTOR_BENCH_DOCS (default 10,000; --quick 2,000), VECTOR_BENCH_TYPES (a comma
// list, default every type), HNSW_M and HNSW_EF as for the embedder. Each index is built, merged to one segment, measured and deleted.
import { uniformSource } from '@image-search/clip';
import {
  loadEmbedderConfig,
  loadSearchApiConfig,
  VECTOR_INDEX_TYPES,
  type VectorIndexType,
} from '@image-search/config';
import {
  bulkWrite,
  type Client,
  concreteIndexName,
  createClient,
  type ImageDoc,
  type IndexSpec,
  indexBody,
  isQuantized,
  knnSearch,
  refreshIndex,
} from '@image-search/search-index';
import { knnSettings } from '../services/search-api/src/knn-settings.ts';
import { mergeToOneSegment } from './rn50-index.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const DIMS = 1024;
const K = 10;
/** Recall@10 of text-like queries each quantised type must reach (issue 19). */
const RECALL_TARGETS: Partial<Record<VectorIndexType, number>> = { int8_hnsw: 0.98, bbq_hnsw: 0.95 };

/**
 * Unit vectors with the structure of image embeddings: a direction all share, a topic, a subject within the topic
 * (about ten pictures each: near neighbours that belong together), and each picture's own part. Text-like queries
 * lean towards one subject but sit far from every picture (cosine about 0.3, CLIP's gap between text and images),
 * which leaves the nearest pictures close together in score: the hard case for quantised vectors.
 */
function embeddingSpace(count: number, seed: number) {
  const rnd = uniformSource(seed);
  const gauss = () => rnd() + rnd() + rnd() - 1.5;
  const randomUnit = () => normalise(Float32Array.from({ length: DIMS }, gauss));
  const shared = randomUnit();
  const topics = Array.from({ length: Math.max(10, Math.round(count / 1000)) }, randomUnit);
  const subjects = Array.from({ length: Math.max(10, Math.round(count / 10)) }, () => ({
    topic: topics[Math.floor(rnd() * topics.length)],
    own: randomUnit(),
  }));
  const draw = (n: number, mix: (d: number, subject: (typeof subjects)[number], own: Float32Array) => number) => {
    const out = new Float32Array(n * DIMS);
    for (let i = 0; i < n; i++) {
      const subject = subjects[Math.floor(rnd() * subjects.length)];
      const own = randomUnit();
      const v = out.subarray(i * DIMS, (i + 1) * DIMS);
      for (let d = 0; d < DIMS; d++) v[d] = mix(d, subject, own);
      normalise(v);
    }
    return out;
  };
  return {
    pictures: (n: number) =>
      draw(n, (d, s, own) => 0.5 * shared[d] + 0.5 * s.topic[d] + 0.5 * s.own[d] + 0.45 * own[d]),
    textQueries: (n: number) => draw(n, (d, s, own) => 0.2 * shared[d] + 0.2 * s.topic[d] + 0.25 * s.own[d] + own[d]),
  };
}

function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** Ids (as document numbers) of the k vectors with the largest dot product with q: exact search. */
function exactTopK(vectors: Float32Array, q: Float32Array, k: number): number[] {
  const count = vectors.length / DIMS;
  const best: Array<{ n: number; score: number }> = [];
  for (let n = 0; n < count; n++) {
    let score = 0;
    const base = n * DIMS;
    for (let d = 0; d < DIMS; d++) score += vectors[base + d] * q[d];
    if (best.length < k || score > best[best.length - 1].score) {
      best.push({ n, score });
      best.sort((a, b) => b.score - a.score);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.n);
}

const docId = (n: number) => `v${n}`;

function doc(n: number, vector: Float32Array): ImageDoc {
  return {
    path: `bench/vector-${n}.jpg`,
    vector: Array.from(vector),
    file_name: `vector-${n}.jpg`,
    width: 1024,
    height: 768,
    bytes: 150_000,
    content_type: 'image/jpeg',
    model: 'bench/rn50-shaped',
    indexed_at: '2026-01-01T00:00:00.000Z',
  };
}

/**
 * Vector bytes per picture from the segment files: `memory` what kNN reads for every query and wants in the page
 * cache (the HNSW graph, plus the quantised vectors for quantised types, the float vectors otherwise); `disk` every
 * vector file, including the float vectors quantised types keep for rescoring.
 */
async function vectorBytes(client: Client, index: string, docs: number) {
  const stats = await client.indices.stats({ index, metric: 'segments', include_segment_file_sizes: true });
  const files = (stats._all.primaries?.segments?.file_sizes ?? {}) as Record<string, { size_in_bytes: number }>;
  const size = (ext: string) => files[ext]?.size_in_bytes ?? 0;
  const floats = size('vec');
  const quantised = size('veq') + size('veb');
  const graph = size('vex');
  const all = Object.entries(files)
    .filter(([ext]) => ext.startsWith('ve'))
    .reduce((sum, [, f]) => sum + f.size_in_bytes, 0);
  return { memory: (graph + (quantised > 0 ? quantised : floats)) / docs, disk: all / docs, files };
}

/** Queries with their exact top k (document numbers). */
interface QuerySet {
  name: string;
  vectors: Float32Array[];
  truth: number[][];
}

/** How a search is made: HNSW candidates, and k × oversample hits rescored by float vectors (0: none). */
interface Setting {
  numCandidates: number;
  oversample: number;
}

interface Searched extends Setting {
  /** Per query set, by name. */
  recall: Record<string, number>;
  p50: number;
}

interface TypeResult {
  type: VectorIndexType;
  buildS: number;
  /** One per setting, in the order swept. */
  searched: Searched[];
  memory: number;
  disk: number;
}

const settingName = (s: Setting) =>
  `num_candidates ${s.numCandidates}${s.oversample > 0 ? `, rescore ×${s.oversample}` : ', no rescoring'}`;

async function measureType(
  client: Client,
  type: VectorIndexType,
  vectors: Float32Array,
  querySets: QuerySet[],
  graph: { m: number; ef: number },
  log: (s: string) => void,
): Promise<TypeResult> {
  const settings = benchSettings(type);
  const count = vectors.length / DIMS;
  const spec: IndexSpec = {
    alias: `bench-vector-types-${type.replace('_', '-')}`,
    model: 'bench/rn50-shaped',
    dims: DIMS,
    hnswM: graph.m,
    hnswEf: graph.ef,
    vectorIndexType: type,
    shards: 1,
    replicas: 0,
  };
  const index = concreteIndexName(spec);
  await client.indices.delete({ index, ignore_unavailable: true });
  const body = indexBody(spec);
  await client.indices.create({
    index,
    // Merged segments without compound files, so the stats can tell the vector files apart.
    settings: { ...body.settings, refresh_interval: '-1', 'index.compound_format': false },
    mappings: body.mappings,
  });
  try {
    const t0 = performance.now();
    const bulk = 500;
    for (let start = 0; start < count; start += bulk) {
      const ops = [];
      for (let n = start; n < Math.min(count, start + bulk); n++) {
        ops.push({ id: docId(n), doc: doc(n, vectors.subarray(n * DIMS, (n + 1) * DIMS)) });
      }
      const res = await bulkWrite(client, index, ops);
      if (res.failed.length > 0) throw new Error(`${type}: ${JSON.stringify(res.failed[0])}`);
      // At least two segments, so the force merge below writes a new one (a flushed segment is a compound file).
      if (start === 0) await refreshIndex(client, index);
    }
    await refreshIndex(client, index);
    await mergeToOneSegment(client, index, log);
    await refreshIndex(client, index);
    const buildS = (performance.now() - t0) / 1000;

    // The first pass over every query warms the page cache and the JIT; then each setting is measured.
    const search = async (setting: Setting, warm = false): Promise<Searched> => {
      const times: number[] = [];
      const recall: Record<string, number> = {};
      for (const set of querySets) {
        let found = 0;
        for (const [i, q] of set.vectors.entries()) {
          const t = performance.now();
          const hits = await knnSearch(client, index, {
            vector: q,
            k: K,
            numCandidates: setting.numCandidates,
            // Float types: no rescore_vector, as the API sends none for them.
            rescoreOversample: isQuantized(type) ? setting.oversample : undefined,
          });
          times.push(performance.now() - t);
          if (warm) continue;
          const want = new Set(set.truth[i].map(docId));
          found += hits.filter((h) => want.has(h.id)).length;
        }
        recall[set.name] = found / (set.vectors.length * K);
      }
      return { ...setting, recall, p50: median(times) };
    };
    await search(settings[0], true);
    // Float types take no rescoring: one search per num_candidates.
    const swept = isQuantized(type)
      ? settings
      : settings.filter((s, i) => settings.findIndex((o) => o.numCandidates === s.numCandidates) === i);
    const searched: Searched[] = [];
    for (const setting of swept) searched.push(await search(setting));
    const bytes = await vectorBytes(client, index, count);
    const recalls = (r: Searched) =>
      Object.entries(r.recall)
        .map(([name, v]) => `${name} ${v.toFixed(3)}`)
        .join(', ');
    const target = RECALL_TARGETS[type];
    log(
      `${type}: built in ${buildS.toFixed(0)} s, ${bytes.memory.toFixed(0)} B/picture in memory, ${bytes.disk.toFixed(0)} B on disk` +
        ` ${JSON.stringify(Object.fromEntries(Object.entries(bytes.files).map(([e, f]) => [e, f.size_in_bytes])))}`,
    );
    for (const r of searched) {
      const met =
        target === undefined
          ? ''
          : r.recall.text >= target
            ? ` (text ≥ ${target}: met)`
            : ` (text ≥ ${target}: not met)`;
      log(
        `  ${type}, ${settingName(isQuantized(type) ? r : { ...r, oversample: 0 })}: recall@${K} ${recalls(r)}, p50 ${r.p50.toFixed(1)} ms${met}`,
      );
    }
    return { type, buildS, searched, memory: bytes.memory, disk: bytes.disk };
  } finally {
    await client.indices.delete({ index, ignore_unavailable: true });
  }
}

/** VECTOR_BENCH_TYPES, checked against the types the embedder accepts; every type when unset. */
function benchTypes(): readonly VectorIndexType[] {
  const asked = process.env.VECTOR_BENCH_TYPES?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (!asked?.length) return VECTOR_INDEX_TYPES;
  const unknown = asked.filter((t) => !(VECTOR_INDEX_TYPES as readonly string[]).includes(t));
  if (unknown.length)
    throw new Error(`VECTOR_BENCH_TYPES: unknown ${unknown.join(', ')}; use ${VECTOR_INDEX_TYPES.join(', ')}`);
  return asked as VectorIndexType[];
}

/** A comma list of numbers from the environment, or `fallback` when unset. */
function numberList(name: string, fallback: number[]): number[] {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const list = raw.split(',').map((t) => Number(t.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 0))
    throw new Error(`${name}: a comma list of whole numbers, got "${raw}"`);
  return list;
}

/** The settings swept for a type: the API's own (from its config) unless others are asked for. */
function benchSettings(type: VectorIndexType): Setting[] {
  const product = knnSettings(loadSearchApiConfig(), type);
  const candidates = numberList('VECTOR_BENCH_NUM_CANDIDATES', [product.numCandidates]);
  const oversamples = numberList('VECTOR_BENCH_OVERSAMPLE', [product.rescoreOversample ?? 0, 0]);
  const all = candidates.flatMap((numCandidates) => oversamples.map((oversample) => ({ numCandidates, oversample })));
  return all.filter((s, i) => all.findIndex((o) => settingName(o) === settingName(s)) === i);
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const log = (s: string) => process.stdout.write(`  ${s}\n`);
  const count = Number(process.env.VECTOR_BENCH_DOCS ?? (opts.quick ? 2_000 : 10_000));
  const queryCount = opts.quick ? 50 : 200;
  const { HNSW_M: m, HNSW_EF: ef } = loadEmbedderConfig();
  const space = embeddingSpace(count, 19);
  const vectors = space.pictures(count);
  const t0 = performance.now();
  const querySet = (name: string, all: Float32Array): QuerySet => {
    const qs = Array.from({ length: queryCount }, (_, i) => all.subarray(i * DIMS, (i + 1) * DIMS));
    return { name, vectors: qs, truth: qs.map((q) => exactTopK(vectors, q, K)) };
  };
  // Text-like queries (the product's search box), and held-out pictures like the indexed ones (search by picture).
  const querySets = [querySet('text', space.textQueries(queryCount)), querySet('picture', space.pictures(queryCount))];
  log(
    `${count} vectors of ${DIMS} dims, ${queryCount} text-like and ${queryCount} picture queries, m ${m}, ` +
      `ef_construction ${ef}; exact top-${K} in ` +
      `Node in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const client = createClient({ ES_HOST: process.env.ES_HOST ?? 'http://127.0.0.1:9200' });
  const results: TypeResult[] = [];
  try {
    for (const type of benchTypes()) {
      results.push(await measureType(client, type, vectors, querySets, { m, ef }, log));
    }
  } finally {
    await client.close();
  }

  const hnsw = results.find((r) => r.type === 'hnsw');
  const figures: BenchFigure[] = [];
  for (const r of results) {
    const target = RECALL_TARGETS[r.type];
    for (const searched of r.searched) {
      const setting = settingName(isQuantized(r.type) ? searched : { ...searched, oversample: 0 });
      for (const [set, value] of Object.entries(searched.recall)) {
        figures.push({
          name: `${r.type} recall@${K}, ${set} queries, ${setting} (${count} vectors)`,
          value,
          unit: '',
          target: set === 'text' && target !== undefined && searched.oversample > 0 ? `≥ ${target}` : undefined,
        });
      }
      figures.push({ name: `${r.type} kNN p50, ${setting}`, value: searched.p50, unit: 'ms' });
    }
    figures.push({
      name: `${r.type} vector bytes per picture in memory`,
      value: r.memory,
      unit: 'B',
      ...(hnsw && r.type !== 'hnsw'
        ? {
            baseline: { name: 'hnsw', value: hnsw.memory },
            ratio: r.memory / hnsw.memory,
            target: r.type === 'bbq_hnsw' ? '≤ 0.1' : undefined,
          }
        : {}),
    });
    figures.push({ name: `${r.type} vector bytes per picture on disk`, value: r.disk, unit: 'B' });
  }
  return figures;
}
