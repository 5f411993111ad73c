// The model in its worker thread answers exactly as the model on this thread, leaves this thread's event loop free
// while it works, and reports a bad model folder or a bad input with the loader's own error.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ClipModel, loadModel, preprocessImage, preprocessOptionsFor } from '@image-search/clip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryModel } from '../src/query-embedder.ts';
import { startQueryModel } from '../src/query-model.ts';
import { colourPicture, tinyModelDir } from './fixture.ts';

let worker: QueryModel;
let here: ClipModel;
const made: string[] = [];

beforeAll(async () => {
  const dir = await tinyModelDir();
  [worker, here] = await Promise.all([
    startQueryModel(dir, { device: 'cpu', threads: 1, logLevel: 'silent' }),
    loadModel(dir, { device: 'cpu', threads: 1 }),
  ]);
  // Making the tiny model (first run) and the worker's warm-up both embed its reference inputs now.
}, 60_000);
afterAll(async () => {
  await worker?.close();
  await here?.close();
  for (const d of made) await rm(d, { recursive: true, force: true });
});

describe('the query model worker', () => {
  it('loads the folder and embeds texts and pictures exactly as the model on this thread', async () => {
    expect(worker).toMatchObject({ dir: here.dir, manifest: here.manifest, provider: 'cpu' });
    const texts = ['red', 'a photo of a blue car', 'yellow'];
    const S = here.manifest.imageSize;
    const picture = new Float32Array(3 * S * S).map((_, i) => Math.sin(i));
    const [inWorker, inThread] = await Promise.all([
      Promise.all([worker.text.embed(texts), worker.image.embed([picture])]),
      Promise.all([here.text.embed(texts), here.image.embed([picture])]),
    ]);
    expect(inWorker.flat().map((v) => Array.from(v))).toEqual(inThread.flat().map((v) => Array.from(v)));
    expect(picture).toHaveLength(3 * S * S); // copied to the worker, still the caller's
  });

  it('decodes and embeds an uploaded picture exactly as this thread would', async () => {
    const jpeg = await colourPicture([210, 20, 30], 'jpeg', 7, { width: 60, height: 40 });
    const { vector, decodeMs } = await worker.image.embedPicture(jpeg, 1_000_000);
    const p = await preprocessImage(jpeg, { ...preprocessOptionsFor(here.manifest), maxPixels: 1_000_000 });
    const [inThread] = await here.image.embed([p.tensor]);
    expect(Array.from(vector)).toEqual(Array.from(inThread));
    expect(decodeMs).toBeGreaterThan(0);
  });

  it('rejects a picture it cannot decode with ImageDecodeError and its code, and goes on serving', async () => {
    const png = await colourPicture([200, 0, 0], 'png', 2);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
    await expect(worker.image.embedPicture(broken, 1_000_000)).rejects.toMatchObject({
      name: 'ImageDecodeError',
      code: 'corrupt',
    });
    await expect(worker.image.embedPicture(png, 100)).rejects.toMatchObject({
      name: 'ImageDecodeError',
      code: 'too_large',
      message: expect.stringMatching(/48×32/),
    });
    await expect(worker.image.embedPicture(png, 1_000_000)).resolves.toHaveProperty('vector');
  });

  it('keeps this thread free while it embeds', async () => {
    // On this thread the inference would finish before the event loop turns again (onnxruntime-node blocks it).
    const S = here.manifest.imageSize;
    // Several batches queue up in the worker, so even a busy machine that pauses this thread right after posting them
    // (the tiny model embeds one batch in about a millisecond) sees the loop turn before the last answer arrives.
    const batch = Array.from({ length: 32 }, (_, k) => new Float32Array(3 * S * S).map((_, i) => Math.sin(i + k)));
    const order: string[] = [];
    const embedded = Promise.all(Array.from({ length: 16 }, () => worker.image.embed(batch))).then(() =>
      order.push('model answered'),
    );
    setImmediate(() => order.push('event loop turned'));
    await embedded;
    expect(order[0]).toBe('event loop turned');
  });

  it('rejects a bad input with its error and goes on serving', async () => {
    await expect(worker.image.embed([new Float32Array(5)])).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringMatching(/has 5 values/),
    });
    await expect(worker.text.embed(['green'])).resolves.toHaveLength(1);
  });

  it('fails to start with the model folder problem when the folder holds no model', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'search-api-no-model-'));
    made.push(empty);
    await expect(startQueryModel(empty, { device: 'cpu', logLevel: 'silent' })).rejects.toMatchObject({
      name: 'ModelDirError',
      message: expect.stringContaining(empty),
    });
  });

  it('refuses work once closed', async () => {
    const model = await startQueryModel(await tinyModelDir(), { device: 'cpu', threads: 1, logLevel: 'silent' });
    await model.close();
    await expect(model.text.embed(['red'])).rejects.toThrow(/closed/);
  });
});
