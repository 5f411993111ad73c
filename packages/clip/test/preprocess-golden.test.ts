// Preprocessing against tensors from the reference OpenCLIP eval transform (Python, Pillow, torchvision).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocessImage } from '../src/preprocess.ts';
import { fixture } from './fixtures.ts';

interface GoldenCase {
  image: string;
  tensor: string;
  mode: string;
  size: [number, number];
  tolerance: { mean_abs: number; max_abs: number };
}

const golden = fixture('clip/preprocess-golden/golden.json');
if (golden.missing) console.warn(`preprocessing golden tests skipped: ${golden.missing}`);

describe.skipIf(golden.missing !== undefined)('preprocessImage against the OpenCLIP reference tensors', () => {
  const spec = golden.missing ? undefined : JSON.parse(readFileSync(golden.path, 'utf8'));
  const dir = path.dirname(golden.path);
  const cases: GoldenCase[] = spec?.cases ?? [];

  it.each(cases.map((c) => [c.image, c.mode, c] as const))('%s (%s) is within its tolerance', async (_n, _m, c) => {
    const out = await preprocessImage(path.join(dir, c.image), {
      imageSize: spec.size,
      mean: spec.mean,
      std: spec.std,
    });
    const ref = new Float32Array(new Uint8Array(readFileSync(path.join(dir, c.tensor))).buffer);
    expect(out.tensor).toHaveLength(ref.length);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(out.tensor[i]! - ref[i]!);
      sum += d;
      if (d > max) max = d;
    }
    const mean = sum / ref.length;
    expect({ image: c.image, max: max <= c.tolerance.max_abs, mean: mean <= c.tolerance.mean_abs }).toEqual({
      image: c.image,
      max: true,
      mean: true,
    });
    // golden.json lists the size the reference saw: upright for the EXIF case, which is what users see.
    expect([out.width, out.height]).toEqual(c.size);
  });
});
