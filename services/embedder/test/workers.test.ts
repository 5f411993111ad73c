// The worker threads (image tower, decode pool) give the same results as this thread would, and fail clearly.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { preprocessImage, preprocessOptionsFor } from '@image-search/clip';
import { afterAll, describe, expect, it } from 'vitest';
import { poolSizeFor, startDecodePool } from '../src/decode-pool.ts';
import { startImageTower } from '../src/image-tower.ts';
import { colourPicture, tinyModel, tinyModelDir } from './fixtures.ts';

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

describe('image tower worker', () => {
  it('embeds batches in a worker thread exactly as the model does on this thread', async () => {
    const tower = await startImageTower(await tinyModelDir(), { device: 'cpu', threads: 1 });
    try {
      const model = await tinyModel();
      const S = model.manifest.imageSize;
      const batch = [0.2, -0.5, 0.9].map((v) => new Float32Array(3 * S * S).map((_, i) => v * Math.sin(i)));
      const [inWorker, here] = await Promise.all([tower.embed(batch), model.image.embed(batch)]);
      expect(tower.manifest.embedDim).toBe(model.manifest.embedDim);
      expect(inWorker).toHaveLength(3);
      for (let i = 0; i < 3; i++) expect(Array.from(inWorker[i])).toEqual(Array.from(here[i]));
    } finally {
      await tower.close();
    }
  });

  it('rejects with the model folder problem when there is no model', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'embedder-no-model-'));
    made.push(empty);
    await expect(startImageTower(empty, { device: 'cpu' })).rejects.toThrow(/model\.json|manifest|model/i);
  });
});

describe('decode pool', () => {
  it('preprocesses in worker threads exactly as on this thread, and reports undecodable bytes with their code', async () => {
    const opts = { ...preprocessOptionsFor((await tinyModel()).manifest), thumbnail: { maxSize: 256 } };
    const pool = startDecodePool(opts, 2);
    try {
      const pictures = await Promise.all([colourPicture('red', 1), colourPicture('blue', 2, 'jpeg')]);
      const [inPool, here] = await Promise.all([
        Promise.all(pictures.map((p) => pool.preprocess(p))),
        Promise.all(pictures.map((p) => preprocessImage(p, opts))),
      ]);
      for (let i = 0; i < pictures.length; i++) {
        expect(Array.from(inPool[i].tensor)).toEqual(Array.from(here[i].tensor));
        expect(inPool[i]).toMatchObject({ width: here[i].width, height: here[i].height, format: here[i].format });
        expect(Buffer.compare(inPool[i].thumbnail!, here[i].thumbnail!)).toBe(0);
      }
      await expect(pool.preprocess(Buffer.from('not a picture at all'))).rejects.toMatchObject({
        code: expect.stringMatching(/^(corrupt|unsupported)$/),
      });
    } finally {
      await pool.close();
    }
  });
});

describe('poolSizeFor', () => {
  it('leaves half the cores to a CPU tower and all but one to decoding beside a GPU tower', () => {
    expect([2, 8, 64].map((cores) => poolSizeFor('cpu', cores))).toEqual([1, 4, 16]);
    expect([1, 2, 16, 64].map((cores) => poolSizeFor('cuda', cores))).toEqual([1, 1, 15, 16]);
  });
});
