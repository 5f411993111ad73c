// Synthetic models for tests, made once per machine in a shared cache (os.tmpdir()/image-search-models/<arch>).
import os from 'node:os';
import path from 'node:path';
import { ensureSyntheticModel, type SyntheticArch } from '../src/synthetic/make.ts';

export const MODEL_CACHE = path.join(os.tmpdir(), 'image-search-models');

export function syntheticModel(arch: SyntheticArch): Promise<string> {
  return ensureSyntheticModel(arch, path.join(MODEL_CACHE, arch));
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

/** Index of the vector in `candidates` nearest to `query` (all unit vectors). */
export function nearest(query: Float32Array, candidates: Float32Array[]): number {
  let best = 0;
  for (let i = 1; i < candidates.length; i++) {
    if (cosine(query, candidates[i]) > cosine(query, candidates[best])) best = i;
  }
  return best;
}
