// The synthetic rn50 keeps OpenCLIP RN50's interface (224 px in, 1024 out, dynamic batch and length) with finite outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipModel, loadModel } from '../src/encoders.ts';
import { cosine, syntheticModel } from './models.ts';

describe('synthetic rn50', () => {
  let model: ClipModel;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel('rn50'), { device: 'cpu', threads: 2 });
  }, 120_000);
  afterAll(async () => {
    await model?.close();
  });

  it('has the RN50/openai manifest shape', () => {
    expect(model.manifest).toMatchObject({
      embedDim: 1024,
      imageSize: 224,
      interpolation: 'bicubic',
      contextLength: 77,
      dynamicTextLength: true,
      synthetic: true,
      arch: 'rn50',
    });
  });

  it('embeds a batch of pictures and of texts into distinct finite unit vectors', async () => {
    const S = 224;
    const a = Float32Array.from({ length: 3 * S * S }, (_, i) => Math.sin(i / 97));
    const b = Float32Array.from({ length: 3 * S * S }, (_, i) => Math.cos(i / 31));
    const images = await model.image.embed([a, b]);
    const texts = await model.text.embed(['a dog', 'a photo of a cat sleeping on a red sofa']);
    for (const v of [...images, ...texts]) {
      expect(v.length).toBe(1024);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
    // Different pictures get clearly different vectors (no collapse onto one input-independent direction).
    expect(cosine(images[0], images[1])).toBeLessThan(0.9);
    expect(cosine(texts[0], texts[1])).toBeLessThan(0.9999);
    const [alone] = await model.image.embed([b]);
    expect(Math.max(...alone.map((x, i) => Math.abs(x - images[1][i])))).toBeLessThan(1e-4);
  }, 60_000);
});
