// Warm-up checks a model folder against its reference embeddings, so a service never starts on a broken export.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/encoders.ts';
import { ModelReferenceError } from '../src/reference.ts';
import { syntheticModel } from './models.ts';

describe('warm-up against the reference embeddings', () => {
  let tmp: string;
  let good: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'clip-reference-'));
    good = await syntheticModel('tiny');
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('passes a folder whose outputs match its reference', async () => {
    const model = await loadModel(good, { device: 'cpu', threads: 1 });
    await expect(model.warmUp()).resolves.toBeUndefined();
    await model.close();
  });

  it('stops with one line naming the input that differs when they do not', async () => {
    const damaged = path.join(tmp, 'damaged');
    await cp(good, damaged, { recursive: true });
    const file = path.join(damaged, 'reference.json');
    const reference = JSON.parse(await readFile(file, 'utf8'));
    reference.texts[0].embedding = reference.texts[1].embedding;
    await writeFile(file, JSON.stringify(reference));
    const model = await loadModel(damaged, { device: 'cpu', threads: 1 });
    const failure = model.warmUp();
    await expect(failure).rejects.toBeInstanceOf(ModelReferenceError);
    await expect(failure).rejects.toThrow(
      /^model folder .*damaged: its outputs do not match the reference embeddings from the synthetic model maker .*: text "a red car" has cosine [-0-9.]+ < 0.9999 \(1 of 7 inputs below\)/,
    );
    await model.close();
  });
});
