// Embedder throughput and bookkeeping cost (issue 5), with the synthetic rn50 model and real photos:
// - end-to-end images/s of a full embedder round ÷ the image tower's own images/s on pre-made tensors (target ≥ 0.9);
// - bulk writes (the embedder's batches) vs one request per document, as the original wrote them;
// - a re-scan of 100,000 unchanged files: time, model calls, bytes written.
// `pnpm exec tsx bench/embedder.ts [--quick]` (needs Elasticsearch at ES_HOST, default http://127.0.0.1:9200).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClipModel,
  ensureSyntheticModel,
  loadModel,
  preprocessImage,
  preprocessOptionsFor,
} from '@image-search/clip';
import { createLogger } from '@image-search/log';
import {
  bulkWrite,
  type Client,
  createClient,
  ensureModelIndex,
  type ImageDoc,
  type IndexSpec,
  toUnitVector,
} from '@image-search/search-index';
import { type EmbedderSettings, runEmbedder } from '../services/embedder/src/embedder.ts';
import { runRound } from '../services/embedder/src/round.ts';
import { indexedRecord, StateStore } from '../services/embedder/src/state.ts';
import { runIfMain } from './standalone.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COCO = path.resolve(ROOT, '../shared/fixtures/images/coco-mini');
const CACHE = path.join(os.tmpdir(), 'image-search-bench');
const ES_HOST = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
const BATCH = 32;

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const logger = createLogger('bench-embedder', { level: process.env.LOG_LEVEL ?? 'warn' });

async function cocoPhotos(): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['val2017', 'train2017']) {
    const dir = path.join(COCO, sub);
    if (!existsSync(dir)) continue;
    for (const f of (await readdir(dir)).sort()) if (f.endsWith('.jpg')) out.push(path.join(dir, f));
  }
  if (out.length === 0) throw new Error(`no photos under ${COCO}: the embedder benchmark needs ../shared/fixtures`);
  return out;
}

/** A JPEG with a comment segment after SOI: same picture, same decoding cost, different bytes (so a new id). */
function withComment(jpeg: Buffer, text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, body, jpeg.subarray(2)]);
}

/** n real-size photos, the fixture photos repeated with distinct bytes; made once and reused from the temp folder. */
export async function photoFolder(n: number): Promise<string> {
  const dir = path.join(CACHE, `embedder-photos-${n}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const sources = await cocoPhotos();
  const bytes = await Promise.all(sources.map((s) => readFile(s)));
  for (let i = 0; i < n; i++) {
    await writeFile(
      path.join(dir, `photo-${String(i).padStart(5, '0')}.jpg`),
      withComment(bytes[i % bytes.length], `v${i}`),
    );
  }
  await writeFile(path.join(dir, '.complete'), '');
  return dir;
}

export async function deleteIndices(client: Client, prefix: string): Promise<void> {
  const names = Object.keys(await client.indices.get({ index: `${prefix}*`, ignore_unavailable: true }));
  if (names.length > 0) await client.indices.delete({ index: names });
}

export function settings(root: string, imagesDir: string, alias: string, modelDir: string): EmbedderSettings {
  return {
    modelDir,
    stateDir: path.join(root, 'state'),
    DEVICE: 'cpu',
    MODEL_THREADS: 0,
    ES_HOST,
    ES_INDEX: alias,
    ES_API_KEY: undefined,
    ES_USERNAME: undefined,
    ES_PASSWORD: undefined,
    ES_CA_CERT: undefined,
    HNSW_M: 16,
    HNSW_EF: 512,
    VECTOR_INDEX_TYPE: 'hnsw',
    ES_SHARDS: 1,
    ES_REPLICAS: 0,
    IMAGES_DIR: imagesDir,
    THUMBNAILS_DIR: path.join(root, 'thumbnails'),
    BATCH_SIZE: BATCH,
    POLL_SECONDS: 30,
    MAX_IMAGE_PIXELS: 100_000_000,
    QUEUE_URL: undefined,
    QUEUE_NAME: 'pictures',
    QUEUE_MAX_ATTEMPTS: 3,
    EMBEDDER_SCAN: true,
  };
}

/** The image tower alone on pre-made tensors: milliseconds to embed `images` pictures in batches of `tensors`. */
async function towerMs(model: ClipModel, tensors: Float32Array[], images: number): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < images; done += tensors.length) {
    await model.image.embed(tensors.slice(0, Math.min(tensors.length, images - done)));
  }
  return performance.now() - t0;
}

/**
 * The photos go into the embedder's folder in chunks; each chunk's embedder round is timed right after the tower alone
 * embeds as many pre-made tensors, so both see the same background load on a shared machine (the pairs' ratios are
 * the samples). The embedder runs as `pnpm embedder --once` does: image tower in its worker, loaded from the folder.
 */
async function endToEnd(modelDir: string, model: ClipModel, client: Client, quick: boolean): Promise<BenchFigure[]> {
  const n = quick ? 256 : 2000;
  const chunks = quick ? 2 : 4;
  const photos = await photoFolder(n);
  const names = (await readdir(photos)).filter((f) => f.endsWith('.jpg')).sort();
  const opts = preprocessOptionsFor(model.manifest);
  const tensors = await Promise.all(
    names.slice(0, BATCH).map(async (f) => (await preprocessImage(path.join(photos, f), opts)).tensor),
  );
  await model.image.embed(tensors); // warm-up

  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-embedder-'));
  const images = path.join(root, 'images');
  await mkdir(images, { recursive: true });
  const alias = `bench-embedder-${randomBytes(4).toString('hex')}`;
  let towerTotalMs = 0;
  let e2eTotalMs = 0;
  let embedded = 0;
  let modelMs = 0;
  const ratios: number[] = [];
  try {
    for (let c = 0; c < chunks; c++) {
      const chunk = names.slice(Math.floor((c * n) / chunks), Math.floor(((c + 1) * n) / chunks));
      await Promise.all(chunk.map((f) => link(path.join(photos, f), path.join(images, f))));
      const tMs = await towerMs(model, tensors, chunk.length);
      const [summary] = await runEmbedder(settings(root, images, alias, modelDir), { logger, once: true });
      if (summary.embedded !== chunk.length) throw new Error(`embedded ${summary.embedded} of ${chunk.length} photos`);
      towerTotalMs += tMs;
      e2eTotalMs += summary.durationMs;
      embedded += summary.embedded;
      modelMs += summary.modelMs;
      ratios.push(round2(tMs / summary.durationMs));
    }
    const tower = (n / towerTotalMs) * 1000;
    const e2e = (embedded / e2eTotalMs) * 1000;
    return [
      {
        name: `image tower rn50 alone, pre-made tensors, batch ${BATCH}`,
        value: round1(tower),
        unit: 'img/s',
      },
      {
        name: `embedder end-to-end rn50, ${n} real-size photos, batch ${BATCH} (read, hash, decode, thumbnail, embed, bulk write)`,
        value: round1(e2e),
        unit: 'img/s',
        baseline: { name: 'image tower alone on pre-made tensors, same run', value: round1(tower) },
        ratio: round2(e2e / tower),
        target: '≥ 0.9',
        samples: ratios,
      },
      {
        name: 'embedder rounds: share of wall time the image tower was busy',
        value: round2(modelMs / e2eTotalMs),
        unit: 'fraction',
      },
    ];
  } finally {
    await deleteIndices(client, alias);
    await rm(root, { recursive: true, force: true });
  }
}

function randomDoc(i: number, dims: number): ImageDoc {
  const v = Array.from({ length: dims }, () => Math.random() - 0.5);
  return {
    path: `photo-${i}.jpg`,
    vector: toUnitVector(v),
    file_name: `photo-${i}.jpg`,
    source_url: `https://example.com/${i}.jpg`,
    width: 640,
    height: 480,
    bytes: 150_000,
    content_type: 'image/jpeg',
    model: 'RN50/synthetic',
    indexed_at: new Date().toISOString(),
    thumbnail: `${i}.webp`,
  };
}

async function bulkVsSingle(client: Client, dims: number, quick: boolean): Promise<BenchFigure[]> {
  const n = quick ? 256 : 1024;
  const alias = `bench-embedder-bulk-${randomBytes(4).toString('hex')}`;
  const spec = (suffix: string): IndexSpec => ({
    alias: `${alias}-${suffix}`,
    model: 'RN50/synthetic',
    dims,
    hnswM: 16,
    hnswEf: 512,
    vectorIndexType: 'hnsw',
    shards: 1,
    replicas: 0,
  });
  try {
    const docs = Array.from({ length: n }, (_, i) => ({ id: `doc-${i}`, doc: randomDoc(i, dims) }));
    const bulkIndex = (await ensureModelIndex(client, spec('bulk'))).index;
    const singleIndex = (await ensureModelIndex(client, spec('single'))).index;

    // Alternating slices of 128 documents, so both ways see the same background load and merge activity.
    let bulkMs = 0;
    let singleMs = 0;
    for (let start = 0; start < n; start += 128) {
      const slice = docs.slice(start, start + 128);
      let t0 = performance.now();
      for (let i = 0; i < slice.length; i += BATCH) {
        const r = await bulkWrite(client, bulkIndex, slice.slice(i, i + BATCH));
        if (r.failed.length > 0) throw new Error(`bulk write failed: ${r.failed[0].reason}`);
      }
      bulkMs += performance.now() - t0;
      t0 = performance.now();
      for (const d of slice) {
        await client.index({
          index: singleIndex,
          id: d.id,
          document: { ...d.doc, vector: toUnitVector(d.doc.vector) },
        });
      }
      singleMs += performance.now() - t0;
    }
    const bulkRate = (n / bulkMs) * 1000;
    const singleRate = (n / singleMs) * 1000;
    return [
      {
        name: `bulk writes, ${BATCH} documents per request (${n} docs, ${dims}-d vectors)`,
        value: round1(bulkRate),
        unit: 'docs/s',
        baseline: { name: 'one request per document', value: round1(singleRate) },
        ratio: round2(bulkRate / singleRate),
        target: '≫ 1',
      },
    ];
  } finally {
    await deleteIndices(client, alias);
  }
}

/** n tiny files in one flat folder (as the downloader stores them), made once; returns the folder. */
async function manyFiles(n: number): Promise<string> {
  const dir = path.join(CACHE, `embedder-rescan-${n}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) =>
        writeFile(path.join(dir, `${(i + j).toString(16).padStart(16, '0')}.jpg`), `file ${i + j}`),
      ),
    );
  }
  await writeFile(path.join(dir, '.complete'), '');
  return dir;
}

async function rescan(client: Client, quick: boolean): Promise<BenchFigure[]> {
  const n = quick ? 10_000 : 100_000;
  const images = await manyFiles(n);
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-rescan-'));
  const alias = `bench-embedder-rescan-${randomBytes(4).toString('hex')}`;
  const spec: IndexSpec = {
    alias,
    model: 'RN50/synthetic',
    dims: 8,
    hnswM: 16,
    hnswEf: 100,
    vectorIndexType: 'hnsw',
    shards: 1,
    replicas: 0,
  };
  try {
    const { index } = await ensureModelIndex(client, spec);
    // The state a previous run would have left: every file indexed, as one journal.
    const journal = path.join(root, 'state', `${index}.jsonl`);
    await mkdir(path.dirname(journal), { recursive: true });
    const lines: string[] = [];
    for (const f of await readdir(images)) {
      if (f.startsWith('.')) continue;
      const st = await stat(path.join(images, f));
      lines.push(JSON.stringify(indexedRecord(f, st.size, st.mtimeMs, f.padEnd(64, '0'))));
    }
    await writeFile(`${journal}.tmp`, `${lines.join('\n')}\n`);
    await rename(`${journal}.tmp`, journal);

    let modelCalls = 0;
    const t0 = performance.now();
    const store = await StateStore.open(journal);
    const loadMs = performance.now() - t0;
    const sizeBefore = (await stat(journal)).size;
    const roundOnce = () =>
      runRound({
        imagesDir: images,
        thumbnailsDir: path.join(root, 'thumbnails'),
        batchSize: BATCH,
        client,
        spec,
        index,
        store,
        preprocess: () => Promise.reject(new Error('an unchanged folder must not be decoded')),
        embed: async (b) => {
          modelCalls++;
          return b.map(() => new Float32Array(8));
        },
        logger,
      });
    const rounds = [];
    for (let i = 0; i < 3; i++) rounds.push(await roundOnce());
    const ms = median(rounds.map((r) => r.durationMs));
    const written = (await stat(journal)).size - sizeBefore;
    if (rounds.some((r) => r.unchanged !== n)) throw new Error('the re-scan did not see every file as unchanged');
    return [
      {
        name: `re-scan of ${n.toLocaleString('en')} unchanged files (scan + compare with state)`,
        value: round1(ms / 1000),
        unit: 's',
        target: 'seconds',
        samples: rounds.map((r) => round2(r.durationMs / 1000)),
      },
      {
        name: `loading the state of ${n.toLocaleString('en')} files at start`,
        value: round1(loadMs / 1000),
        unit: 's',
      },
      {
        name: 're-scan of unchanged files: model calls + state bytes written',
        value: modelCalls + written,
        unit: 'count',
        target: '0',
      },
    ];
  } finally {
    await deleteIndices(client, alias);
    await rm(root, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const client = createClient({ ES_HOST });
  const dir = await ensureSyntheticModel('rn50', path.join(os.tmpdir(), 'image-search-models', 'rn50'));
  const model = await loadModel(dir, { device: 'cpu' });
  try {
    return [
      ...(await rescan(client, opts.quick)),
      ...(await bulkVsSingle(client, model.manifest.embedDim, opts.quick)),
      ...(await endToEnd(dir, model, client, opts.quick)),
    ];
  } finally {
    await model.close();
    await client.close();
  }
}

await runIfMain(import.meta.url, run);
