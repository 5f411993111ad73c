// Search features' cost over RN50-shaped documents (bench/rn50-index.ts with hosts, folders and dates), measured as the
// API runs them (services/search-api/src/find.ts) straight against Elasticsearch, without the text tower:
// - filtered kNN p50 (a host filter keeping 10%, a folder filter keeping 1%) ÷ unfiltered kNN p50 (issue 17: ≤ 1.5);
// - hybrid (kNN + BM25 fused by reciprocal rank) p50 ÷ vector-only p50 (≤ 1.3);
// - page 5 (from 40) p50 ÷ page 1 p50;
// - a first page with facets=true (the page and the facet counts in parallel, as the route answers it; the UI asks
//   for them on every first page) p50 ÷ the page alone, unfiltered and with the 10% host filter.
// Every variant runs once per query vector, in turn, so a busy machine slows them alike.
// Searched with the API's kNN settings for the index's type (services/search-api/src/knn-settings.ts): num_candidates,
// and rescoring for quantised types; each VECTOR_INDEX_TYPE has its own index and alias, kept for the next run.
// `pnpm exec tsx bench/search-features.ts [--quick] [--docs N] [--ef EF] [--type VECTOR_INDEX_TYPE] [--candidates N]`
// (defaults 100,000 documents, HNSW_EF, hnsw, NUM_CANDIDATES).
import os from 'node:os';
import path from 'node:path';
import { ensureSyntheticModel, uniformSource } from '@image-search/clip';
import { loadSearchApiConfig } from '@image-search/config';
import { isElasticsearchUp } from '@image-search/local-elasticsearch';
import { type PageQuery, SearchConnection } from '@image-search/search-index';
import { type FindQuery, findFacets, findPictures } from '../services/search-api/src/find.ts';
import { knnSettings } from '../services/search-api/src/knn-settings.ts';
import { ensureBenchIndex } from './rn50-index.ts';
import { runIfMain } from './standalone.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const K = 10;
const MAX_K = 100;

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const docs = Number(opts.flags?.docs ?? 100_000);
  const hnswEf = opts.flags?.ef === undefined ? undefined : Number(opts.flags.ef);
  // The product's defaults, with the index type and candidates this run asks for (checked as the API checks them).
  const config = loadSearchApiConfig({
    VECTOR_INDEX_TYPE: opts.flags?.type,
    NUM_CANDIDATES: opts.flags?.candidates,
    MAX_K: String(MAX_K),
  });
  const type = config.VECTOR_INDEX_TYPE;
  if (!(await isElasticsearchUp(config.ES_HOST))) throw new Error(`no Elasticsearch at ${config.ES_HOST}`);
  const modelDir = await ensureSyntheticModel('rn50', path.join(os.tmpdir(), 'image-search-models', 'rn50'));
  const { alias } = await ensureBenchIndex(config.ES_HOST, modelDir, (s) => console.error(s), {
    docs,
    alias: type === 'hnsw' ? `bench-rn50-search-${docs}` : `bench-rn50-search-${type.replace('_', '-')}-${docs}`,
    hnswEf,
    vectorIndexType: type,
  });
  const search = new SearchConnection(config, { timeoutMs: 60_000 });
  const knn = knnSettings(config);
  const target = { search, alias, ...knn, maxK: MAX_K };
  const rnd = uniformSource(99);
  const vectors = Array.from({ length: opts.quick ? 60 : 300 }, () =>
    Array.from({ length: 1024 }, () => rnd() * 2 - 1),
  );
  const page = (over: Partial<PageQuery> = {}): PageQuery => ({ k: K, from: 0, window: MAX_K, ...over });
  const hostFilter = (vector: number[], i: number): FindQuery => ({
    mode: 'vector',
    vector,
    page: page({ filters: { hosts: [`host-${i % 10}.example`] } }),
  });
  const variants: Record<string, (v: number[], i: number) => FindQuery & { facets?: boolean }> = {
    vector: (vector) => ({ mode: 'vector', vector, page: page() }),
    'host filter (10%)': hostFilter,
    'folder filter (1%)': (vector, i) => ({
      mode: 'vector',
      vector,
      page: page({ filters: { folder: `albums/${i % 100}` } }),
    }),
    hybrid: (vector, i) => ({ mode: 'hybrid', vector, text: `tag${i % 1000}`, page: page() }),
    'page 5': (vector) => ({ mode: 'vector', vector, page: page({ from: 4 * K }) }),
    'vector with facets': (vector) => ({ mode: 'vector', vector, page: page(), facets: true }),
    'host filter (10%) with facets': (vector, i) => ({ ...hostFilter(vector, i), facets: true }),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  try {
    for (const [round, vector] of [vectors.slice(0, 10), vectors].flat().entries()) {
      const warm = round < 10;
      for (const [name, query] of Object.entries(variants)) {
        const t0 = performance.now();
        const q = query(vector, round);
        const [hits] = await Promise.all([findPictures(target, q), q.facets ? findFacets(target, q) : undefined]);
        const ms = performance.now() - t0;
        if (hits.length !== K) throw new Error(`${name}: ${hits.length} hits, not ${K}`);
        if (!warm) times[name].push(ms);
      }
    }
  } finally {
    await search.close();
  }
  const p50 = (name: string) => median(times[name]);
  const scale =
    `${type}, ${docs / 1000}k docs${hnswEf ? `, ef_construction ${hnswEf}` : ''}, num_candidates ${knn.numCandidates}` +
    (knn.rescoreOversample ? `, rescore ×${knn.rescoreOversample}` : '');
  const figure = (name: string, base: string, target?: string): BenchFigure => ({
    name: `search ${name} p50 (${scale})`,
    value: p50(name),
    unit: 'ms',
    baseline: { name: `${base} p50`, value: p50(base) },
    ratio: p50(name) / p50(base),
    target,
    samples: times[name],
  });
  return [
    { name: `search vector p50 (${scale})`, value: p50('vector'), unit: 'ms', samples: times.vector },
    figure('host filter (10%)', 'vector', '≤ 1.5×'),
    figure('folder filter (1%)', 'vector', '≤ 1.5×'),
    figure('hybrid', 'vector', '≤ 1.3×'),
    figure('page 5', 'vector'),
    figure('vector with facets', 'vector'),
    figure('host filter (10%) with facets', 'host filter (10%)'),
  ];
}

await runIfMain(import.meta.url, run, ['docs', 'ef', 'type', 'candidates']);
