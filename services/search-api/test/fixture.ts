// A search API over generated colour pictures: the tiny synthetic model embeds them, search-index writes them into a
// unique test alias, and the server is started on port 0. Shared by the integration tests.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureSyntheticModel, exportHash, preprocessImage, preprocessOptionsFor } from '@image-search/clip';
import { loadSearchApiConfig, type SearchApiConfig } from '@image-search/config';
import { bulkWrite, type Client, createClient, ensureModelIndex, type ImageDoc } from '@image-search/search-index';
import sharp from 'sharp';
import type { QueryModel } from '../src/query-embedder.ts';
import { startQueryModel } from '../src/query-model.ts';
import { buildServer, type SearchApi } from '../src/server.ts';

export const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 25],
  green: [30, 170, 40],
  blue: [30, 50, 220],
  yellow: [240, 225, 30],
};

/** A mostly-`rgb` picture with a little noise, so no two pictures are byte-identical. */
export async function colourPicture(
  rgb: [number, number, number],
  format: 'jpeg' | 'png',
  seed: number,
  size = { width: 48, height: 32 },
): Promise<Buffer> {
  const { width, height } = size;
  const raw = Buffer.alloc(width * height * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    raw[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((s >>> 16) % 21) - 10));
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === 'jpeg' ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();
}

export const tinyModelDir = () => ensureSyntheticModel('tiny', path.join(os.tmpdir(), 'image-search-models', 'tiny'));

export interface Picture {
  id: string;
  colour: string;
  rel: string;
}

export interface Fixture {
  root: string;
  imagesDir: string;
  thumbnailsDir: string;
  pictures: Picture[];
  alias: string;
  es: Client;
  model: QueryModel;
  config: SearchApiConfig;
  api: SearchApi;
  base: string;
  close(): Promise<void>;
}

export interface FixtureOptions {
  esHost?: string;
  env?: Record<string, string>;
  /** The colours pictured (default COLOURS), each `copies` times (default 3: two at the top, one in sub/). */
  colours?: Record<string, [number, number, number]>;
  copies?: number;
  /** More of what the index says about a picture: dates, host, folder, file name… */
  facts?: (p: Picture, n: number) => Partial<ImageDoc>;
}

export async function startFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const esHost = opts.esHost ?? process.env.ES_HOST ?? 'http://127.0.0.1:9200';
  const root = await mkdtemp(path.join(os.tmpdir(), 'search-api-test-'));
  const imagesDir = path.join(root, 'images');
  const thumbnailsDir = path.join(root, 'thumbnails');
  await mkdir(path.join(imagesDir, 'sub'), { recursive: true });
  await mkdir(path.join(imagesDir, '.downloader', 'files'), { recursive: true });
  await mkdir(thumbnailsDir);

  const modelDir = await tinyModelDir();
  // The model as main.ts runs it, in its worker thread; the pictures are embedded through it too.
  const model = await startQueryModel(modelDir, { device: 'cpu', threads: 1, logLevel: 'silent' });
  const pre = preprocessOptionsFor(model.manifest);

  const pictures: Picture[] = [];
  const docs: Array<{ id: string; doc: ImageDoc }> = [];
  let seed = 1;
  for (const [colour, rgb] of Object.entries(opts.colours ?? COLOURS)) {
    for (let i = 0; i < (opts.copies ?? 3); i++) {
      const format = i % 3 === 1 ? 'png' : 'jpeg';
      const bytes = await colourPicture(rgb, format, seed++);
      const id = createHash('sha256').update(bytes).digest('hex');
      const name = `${colour}-${i}.${format === 'jpeg' ? 'jpg' : 'png'}`;
      const rel = i === 2 ? `sub/${name}` : name;
      await writeFile(path.join(imagesDir, rel), bytes);
      await sharp(bytes)
        .resize(16)
        .webp()
        .toFile(path.join(thumbnailsDir, `${id}.webp`));
      const p = await preprocessImage(bytes, pre);
      const [vector] = await model.image.embed([p.tensor]);
      const picture = { id, colour, rel };
      pictures.push(picture);
      docs.push({
        id,
        doc: {
          path: rel,
          vector: Array.from(vector),
          file_name: path.basename(rel),
          source_url: `https://example.com/${name}`,
          width: p.width,
          height: p.height,
          bytes: bytes.length,
          content_type: `image/${format}`,
          model: `${model.manifest.name}/${model.manifest.pretrained}`,
          indexed_at: new Date().toISOString(),
          thumbnail: `${id}.webp`,
          ...opts.facts?.(picture, pictures.length - 1),
        },
      });
    }
  }
  // Things that must never be served: a file beside the folder, a symlink pointing at it, a hidden record.
  await writeFile(path.join(root, 'secret.txt'), 'top secret');
  await symlink(path.join(root, 'secret.txt'), path.join(imagesDir, 'escape.jpg'));
  await symlink('../secret.txt', path.join(thumbnailsDir, 'escape.webp'));
  await writeFile(path.join(imagesDir, '.downloader', 'files', 'red-0.jpg.json'), '{"url":"https://example.com"}');

  const alias = `test-search-api-${randomBytes(4).toString('hex')}`;
  const es = createClient({ ES_HOST: esHost });
  const { index } = await ensureModelIndex(es, {
    alias,
    model: `${model.manifest.name}/${model.manifest.pretrained}`,
    source: {
      name: model.manifest.name,
      pretrained: model.manifest.pretrained,
      dir: modelDir,
      exportHash: await exportHash(modelDir),
    },
    dims: model.manifest.embedDim,
    hnswM: 8,
    hnswEf: 64,
    vectorIndexType: 'hnsw',
    shards: 1,
    replicas: 0,
  });
  const written = await bulkWrite(es, index, docs, { refresh: 'wait_for' });
  if (written.failed.length > 0) throw new Error(`indexing failed: ${JSON.stringify(written.failed[0])}`);

  const config = loadSearchApiConfig({
    ES_HOST: esHost,
    ES_INDEX: alias,
    IMAGES_DIR: imagesDir,
    THUMBNAILS_DIR: thumbnailsDir,
    MAX_UPLOAD_BYTES: '65536',
    MAX_IMAGE_PIXELS: '1000000',
    LOG_LEVEL: 'ERROR',
    ...opts.env,
  });
  const api = await buildServer({ config, model, es });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const address = api.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    root,
    imagesDir,
    thumbnailsDir,
    pictures,
    alias,
    es,
    model,
    config,
    api,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await api.app.close();
      await model.close();
      // By its exact name: Elasticsearch refuses wildcard deletes by default (action.destructive_requires_name).
      await es.indices.delete({ index, ignore_unavailable: true });
      await es.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
