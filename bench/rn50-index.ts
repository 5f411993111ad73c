// The 10,000-document rn50 index that bench/search-api.ts and bench/ui.ts search: deterministic random vectors (they
// measure the API, the page and kNN over 10,000 vectors, not what the model thinks of pictures), merged to one segment,
// kept under a fixed alias and reused by the next run. No request in here waits long: the client's 30 s timeout is
// also undici's header timeout on the shared connection pool, so a longer per-request or child-client timeout cannot
// lift it. Bulks stay modest and the merge runs as a task that is polled, so a busy machine slows the build, never
// times it out; a build cut short is resumed (only missing documents are written). Refresh is off while documents are
// written: every refreshed segment would build its own HNSW graph, only for merges to build them again.
import { createHash } from 'node:crypto';
import { readManifest, uniformSource } from '@image-search/clip';
import { loadEmbedderConfig, type VectorIndexType } from '@image-search/config';
import {
  bulkWrite,
  type Client,
  concreteIndexName,
  createClient,
  ensureModelIndex,
  existingIds,
  type ImageDoc,
  type IndexSpec,
  promoteIndex,
  refreshIndex,
} from '@image-search/search-index';

export const BENCH_DOCS = 10_000;
export const BENCH_ALIAS = 'bench-rn50-10k';
const BULK = 500;

/** Document n's id, which is also its thumbnail's name (`<id>.webp`, made by bench/ui.ts). */
export const benchDocId = (n: number) => createHash('sha256').update(`bench-ui-${n}`).digest('hex');

async function segmentCount(client: Client, index: string): Promise<number> {
  return (await client.cat.segments({ index, format: 'json' })).length;
}

async function isComplete(client: Client, alias: string, index: string, docs: number): Promise<boolean> {
  if (!(await client.indices.exists({ index }))) return false;
  const aliased = await client.indices.existsAlias({ name: alias, index });
  const { count } = await client.count({ index });
  return aliased && count === docs && (await segmentCount(client, index)) === 1;
}

/** Merges to one segment: the graph a long-running index converges to, and kNN times free of merge timing. */
export async function mergeToOneSegment(client: Client, index: string, log: (s: string) => void): Promise<void> {
  if ((await segmentCount(client, index)) <= 1) return;
  const { task } = await client.indices.forcemerge({ index, max_num_segments: 1, wait_for_completion: false });
  if (!task) throw new Error(`force merge of ${index} started no task`);
  const t0 = performance.now();
  let lastLog = t0;
  for (;;) {
    const res = await client.tasks.get({ task_id: task });
    if (res.completed) {
      if (res.error) throw new Error(`force merge of ${index} failed: ${JSON.stringify(res.error)}`);
      break;
    }
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(`merging ${index} to one segment: ${((lastLog - t0) / 1000).toFixed(0)} s so far`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Ten hosts, a hundred folders, a date a day back from 2024: filters that keep 10% and 1% of the pictures. */
function benchFacts(n: number): Partial<ImageDoc> {
  const dated = new Date(Date.UTC(2024, 0, 1) - n * 86_400_000).toISOString();
  return {
    facts_version: 1,
    taken_at: dated,
    added_at: dated,
    dated_at: dated,
    source_host: `host-${n % 10}.example`,
    folder: `albums/${n % 100}`,
    format: 'jpeg',
    orientation: 'landscape',
    keywords: [`tag${n % 1000}`],
  };
}

function benchDoc(n: number, vector: number[], model: string, now: string): ImageDoc {
  return {
    ...benchFacts(n),
    path: `bench/picture-${n}.jpg`,
    vector,
    file_name: `picture-${n}.jpg`,
    source_url: `https://example.com/picture-${n}.jpg`,
    width: 1024,
    height: 768,
    bytes: 150_000,
    content_type: 'image/jpeg',
    model,
    indexed_at: now,
    thumbnail: `${benchDocId(n)}.webp`,
  };
}

/**
 * Makes sure BENCH_ALIAS points at a complete, one-segment index of BENCH_DOCS documents for the model in `modelDir`,
 * building or finishing it when needed, and deletes this alias's indices left from other settings.
 * Returns the concrete index and how long setup took (0 when a complete index was reused).
 */
export async function ensureBenchIndex(
  esHost: string,
  modelDir: string,
  log: (s: string) => void,
  opts: { docs?: number; alias?: string; hnswEf?: number; vectorIndexType?: VectorIndexType } = {},
): Promise<{ alias: string; index: string; setupMs: number }> {
  const docs = opts.docs ?? BENCH_DOCS;
  const alias = opts.alias ?? BENCH_ALIAS;
  const manifest = await readManifest(modelDir);
  const defaults = loadEmbedderConfig({});
  const spec: IndexSpec = {
    alias,
    model: `${manifest.name}/${manifest.pretrained}`,
    dims: manifest.embedDim,
    hnswM: defaults.HNSW_M,
    hnswEf: opts.hnswEf ?? defaults.HNSW_EF,
    vectorIndexType: opts.vectorIndexType ?? defaults.VECTOR_INDEX_TYPE,
    shards: defaults.ES_SHARDS,
    replicas: defaults.ES_REPLICAS,
  };
  const index = concreteIndexName(spec);
  const client = createClient({ ES_HOST: esHost });
  try {
    if (await isComplete(client, alias, index, docs)) return { alias, index, setupMs: 0 };
    const t0 = performance.now();
    await ensureModelIndex(client, spec);
    await client.indices.putSettings({ index, settings: { refresh_interval: '-1' } });
    const rnd = uniformSource(7);
    const now = new Date().toISOString();
    let written = 0;
    for (let start = 0; start < docs; start += BULK) {
      const ops: Array<{ id: string; doc: ImageDoc }> = [];
      for (let n = start; n < Math.min(docs, start + BULK); n++) {
        // Drawn for every document, written or not, so document n always gets the same vector.
        const vector = Array.from({ length: spec.dims }, () => rnd() * 2 - 1);
        ops.push({ id: benchDocId(n), doc: benchDoc(n, vector, spec.model, now) });
      }
      const have = await existingIds(
        client,
        index,
        ops.map((o) => o.id),
      );
      const missing = ops.filter((o) => !have.has(o.id));
      if (missing.length === 0) continue;
      const res = await bulkWrite(client, index, missing);
      if (res.failed.length > 0) throw new Error(`seeding ${index} failed: ${JSON.stringify(res.failed[0])}`);
      written += missing.length;
      if (Math.floor((start + BULK) / 10_000) > Math.floor(start / 10_000)) {
        log(
          `${index}: ${Math.min(docs, start + BULK)} of ${docs} documents, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
      }
    }
    await client.indices.putSettings({ index, settings: { refresh_interval: '1s' } });
    await refreshIndex(client, index);
    const { count } = await client.count({ index });
    if (count !== docs) throw new Error(`${index} holds ${count} documents after seeding, not ${docs}`);
    await mergeToOneSegment(client, index, log);
    await promoteIndex(client, spec, index);
    const stale = (await client.cat.indices({ index: `${alias}-*`, format: 'json', h: 'index' }))
      .map((row) => row.index as string)
      .filter((name) => name !== index);
    if (stale.length > 0) await client.indices.delete({ index: stale });
    const setupMs = performance.now() - t0;
    log(
      `${index}: wrote ${written} of ${docs} documents, one segment, in ${(setupMs / 1000).toFixed(1)} s` +
        (stale.length > 0 ? `; deleted stale ${stale.join(', ')}` : ''),
    );
    return { alias, index, setupMs };
  } finally {
    await client.close();
  }
}
