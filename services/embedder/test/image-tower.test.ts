// The image tower in its worker thread gives the same vectors as the model on this thread, and fails clearly.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startImageTower } from '../src/image-tower.ts';
import { tinyModel, tinyModelDir } from './fixtures.ts';

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
