// Pictures and settings for the embedder's integration tests: generated colour pictures, a few real photos, a tiny model.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ClipModel, ensureSyntheticModel, loadModel } from '@image-search/clip';
import { formatRecord } from '@image-search/picture-store';
import { createClient } from '@image-search/search-index';
import sharp from 'sharp';
import { afterAll } from 'vitest';
import type { EmbedderSettings } from '../src/embedder.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const cocoDir = path.resolve(repoRoot, '../shared/fixtures/images/coco-mini/val2017');

export const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 20, 30],
  green: [30, 180, 40],
  blue: [20, 40, 220],
  yellow: [240, 220, 30],
  purple: [130, 30, 160],
  white: [245, 245, 245],
};

/** A mostly-`colour` picture; `variant` moves a few pixels so every variant has different bytes. */
export async function colourPicture(colour: keyof typeof COLOURS, variant = 0, format: 'png' | 'jpeg' = 'png') {
  const [r, g, b] = COLOURS[colour];
  const w = 48;
  const h = 40;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const noise = (i * 7919 + variant * 104729) % 23;
    px[i * 3] = Math.min(255, r + noise);
    px[i * 3 + 1] = Math.min(255, g + noise);
    px[i * 3 + 2] = Math.min(255, b + noise);
  }
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 92 }).toBuffer();
}

export async function realPhotos(n: number): Promise<string[]> {
  if (!existsSync(cocoDir)) return [];
  return (await readdir(cocoDir))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, n)
    .map((f) => path.join(cocoDir, f));
}

let shared: Promise<ClipModel> | undefined;
export async function tinyModelDir(): Promise<string> {
  return ensureSyntheticModel('tiny', path.join(os.tmpdir(), 'image-search-models', 'tiny'));
}

/** One tiny model for the whole test file (loading is the slow part). */
export function tinyModel(): Promise<ClipModel> {
  shared ??= tinyModelDir().then((dir) => loadModel(dir, { device: 'cpu', threads: 1 }));
  return shared;
}

export const ES_HOST = process.env.ES_HOST ?? 'http://127.0.0.1:9200';

export async function workDirs(prefix: string) {
  const root = await mkdtemp(path.join(os.tmpdir(), `embedder-${prefix}-`));
  const dirs = {
    root,
    images: path.join(root, 'images'),
    thumbnails: path.join(root, 'thumbnails'),
    state: path.join(root, 'state'),
  };
  await mkdir(dirs.images, { recursive: true });
  return dirs;
}

/** The document id the embedder gives a picture: the SHA-256 of its bytes. */
export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A client of the shared Elasticsearch, and lists of the aliases and folders a test file made; after the file, the
 * indices behind those aliases (the cluster refuses wildcard deletes, so the patterns are resolved to names first) and
 * the folders are removed, and the client closed.
 */
export function sharedCluster() {
  const client = createClient({ ES_HOST });
  const aliases: string[] = [];
  const roots: string[] = [];
  afterAll(async () => {
    for (const a of aliases) {
      const names = Object.keys(await client.indices.get({ index: `${a}*`, ignore_unavailable: true }));
      if (names.length > 0) await client.indices.delete({ index: names });
    }
    for (const r of roots) await rm(r, { recursive: true, force: true });
    await client.close();
  });
  return { client, aliases, roots };
}

/** The journal line the downloader writes once it stored `file` (a PNG) from `url`. */
export function doneRecordLine(p: { key: string; url: string; file: string; bytes: number; at: Date }): Buffer {
  return Buffer.from(
    formatRecord({
      key: p.key,
      status: 'done',
      url: p.url,
      file: p.file,
      bytes: p.bytes,
      content_type: 'image/png',
      final_url: null,
      attempts: 1,
      error: null,
      detail: null,
      permanent: false,
      at: p.at.toISOString(),
    }),
  );
}

export function uniqueAlias(prefix: string): string {
  return `test-embedder-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The environment of a real embedder process (tiny model, CPU) on the work folders and alias. */
export function processEnv(
  dirs: Awaited<ReturnType<typeof workDirs>>,
  alias: string,
  modelDir: string,
  stateDir = dirs.state,
): Record<string, string> {
  return {
    MODEL_DIR: modelDir,
    IMAGES_DIR: dirs.images,
    THUMBNAILS_DIR: dirs.thumbnails,
    STATE_DIR: stateDir,
    ES_HOST,
    ES_INDEX: alias,
    DEVICE: 'cpu',
    MODEL_THREADS: '1',
    BATCH_SIZE: '8',
    LOG_LEVEL: 'WARN',
  };
}

export function settingsFor(
  dirs: Awaited<ReturnType<typeof workDirs>>,
  alias: string,
  over: Partial<EmbedderSettings> = {},
): EmbedderSettings {
  return {
    modelDir: '',
    stateDir: dirs.state,
    DEVICE: 'cpu',
    MODEL_THREADS: 1,
    ES_HOST,
    ES_INDEX: alias,
    ES_API_KEY: undefined,
    ES_USERNAME: undefined,
    ES_PASSWORD: undefined,
    ES_CA_CERT: undefined,
    HNSW_M: 16,
    HNSW_EF: 100,
    VECTOR_INDEX_TYPE: 'hnsw',
    ES_SHARDS: 1,
    ES_REPLICAS: 0,
    IMAGES_DIR: dirs.images,
    THUMBNAILS_DIR: dirs.thumbnails,
    BATCH_SIZE: 4,
    POLL_SECONDS: 1,
    MAX_IMAGE_PIXELS: 100_000_000,
    QUEUE_URL: undefined,
    QUEUE_NAME: 'pictures',
    QUEUE_MAX_ATTEMPTS: 3,
    EMBEDDER_SCAN: true,
    ...over,
  };
}

/** The model with its image tower calls counted. */
export function counting(model: ClipModel): { model: ClipModel; calls: () => number } {
  let n = 0;
  return {
    model: {
      ...model,
      image: {
        embed: (batch) => {
          n++;
          return model.image.embed(batch);
        },
      },
    },
    calls: () => n,
  };
}
