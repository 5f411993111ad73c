// The tiny synthetic model through the real stack: sharp-made pictures → preprocessImage → loadModel → ONNX Runtime.
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@image-search/log';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClipModel, loadModel } from '../src/encoders.ts';
import { ModelDirError } from '../src/manifest.ts';
import { preprocessImage, preprocessOptionsFor } from '../src/preprocess.ts';
import { DeviceUnavailableError } from '../src/session.ts';
import { ensureSyntheticModel, makeSyntheticModel } from '../src/synthetic/make.ts';
import { cosine, nearest, syntheticModel } from './models.ts';

/** Everyday renderings of each colour (not the model's prototypes), as a camera or a drawing program would give. */
const COLOURS: Array<[name: string, rgb: [number, number, number]]> = [
  ['red', [220, 30, 35]],
  ['green', [40, 160, 60]],
  ['blue', [30, 60, 200]],
  ['yellow', [240, 220, 40]],
  ['orange', [245, 140, 20]],
  ['purple', [120, 40, 150]],
  ['pink', [250, 160, 190]],
  ['brown', [120, 75, 35]],
  ['black', [15, 15, 15]],
  ['white', [245, 245, 245]],
  ['gray', [128, 128, 128]],
  ['cyan', [30, 210, 220]],
];

/** A picture dominated by `rgb`: pixel noise, and a grey patch covering a tenth of it. */
async function picture(rgb: [number, number, number], seed: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const width = 96;
  const height = 72;
  const raw = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const patch = x < 24 && y < 29;
      for (let c = 0; c < 3; c++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const jitter = ((s >>> 16) % 31) - 15;
        raw[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, (patch ? 100 : rgb[c]) + jitter));
      }
    }
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

describe('tiny synthetic model', () => {
  let model: ClipModel;
  let pictures: Float32Array[];
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'clip-tiny-'));
    model = await loadModel(await syntheticModel('tiny'), { device: 'cpu', threads: 1 });
    const opts = preprocessOptionsFor(model.manifest);
    const tensors = await Promise.all(
      COLOURS.map(
        async ([, rgb], i) => (await preprocessImage(await picture(rgb, i + 1, i % 2 ? 'jpeg' : 'png'), opts)).tensor,
      ),
    );
    pictures = await model.image.embed(tensors);
  });
  afterAll(async () => {
    await model?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('ranks the picture of each basic colour first for a query naming it', async () => {
    const queries = COLOURS.map(([name]) => name);
    const vectors = await model.text.embed(queries);
    const found = vectors.map((v) => COLOURS[nearest(v, pictures)][0]);
    expect(found).toEqual(queries);
  });

  it('understands colours inside a sentence, and grey as gray', async () => {
    const [red, blue, grey] = await model.text.embed([
      'a photo of a red car at night',
      'The BLUE sky over the sea',
      'a grey wall',
    ]);
    expect(COLOURS[nearest(red, pictures)][0]).toBe('red');
    expect(COLOURS[nearest(blue, pictures)][0]).toBe('blue');
    expect(COLOURS[nearest(grey, pictures)][0]).toBe('gray');
    const redPicture = pictures[COLOURS.findIndex(([n]) => n === 'red')];
    const bluePicture = pictures[COLOURS.findIndex(([n]) => n === 'blue')];
    expect(cosine(red, redPicture)).toBeGreaterThan(cosine(red, bluePicture) + 0.3);
  });

  it('returns unit vectors of embedDim, the same one by one as in a batch', async () => {
    expect(model.manifest.embedDim).toBe(64);
    for (const v of pictures) {
      expect(v.length).toBe(64);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    const texts = ['red', 'a much longer query about a yellow taxi in the rain'];
    const batch = await model.text.embed(texts);
    const [single] = await model.text.embed([texts[0]]);
    expect(Math.max(...single.map((x, i) => Math.abs(x - batch[0][i])))).toBeLessThan(1e-6);
    expect(await model.text.embed([])).toEqual([]);
    expect(await model.image.embed([])).toEqual([]);
  });

  it('refuses an image tensor of the wrong size, naming the size it takes', async () => {
    await expect(model.image.embed([new Float32Array(10)])).rejects.toThrow('3×64×64 = 12288');
  });

  it('warms up', async () => {
    await expect(model.warmUp()).resolves.toBeUndefined();
  });

  it('gives the same text vectors from an older fixed-length (77) model folder', async () => {
    const dir = path.join(tmp, 'fixed');
    await cp(model.dir, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...manifest, dynamicTextLength: false }));
    const fixed = await loadModel(dir, { device: 'cpu' });
    const texts = ['red', 'a photo of a dog on a green lawn'];
    const [a, b] = [await fixed.text.embed(texts), await model.text.embed(texts)];
    await fixed.close();
    for (let i = 0; i < a.length; i++) {
      expect(Math.max(...a[i].map((x, j) => Math.abs(x - b[i][j])))).toBeLessThan(1e-6);
    }
  });

  it('is made deterministically from its seed, and reused once made', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const c = path.join(tmp, 'c');
    await makeSyntheticModel('tiny', a, { seed: 7 });
    await makeSyntheticModel('tiny', b, { seed: 7 });
    await makeSyntheticModel('tiny', c, { seed: 8 });
    for (const f of ['visual.onnx', 'textual.onnx', 'model.json']) {
      expect((await readFile(path.join(a, f))).equals(await readFile(path.join(b, f))), f).toBe(true);
    }
    expect((await readFile(path.join(a, 'textual.onnx'))).equals(await readFile(path.join(c, 'textual.onnx')))).toBe(
      false,
    );
    const cached = path.join(tmp, 'cached');
    await ensureSyntheticModel('tiny', cached);
    const before = (await stat(path.join(cached, 'textual.onnx'))).mtimeMs;
    expect(await ensureSyntheticModel('tiny', cached)).toBe(cached);
    expect((await stat(path.join(cached, 'textual.onnx'))).mtimeMs).toBe(before);
  });
});

describe('loadModel', () => {
  it('stops with one line naming the missing folder and how to make a model', async () => {
    const err = await loadModel(path.join(os.tmpdir(), 'no-such-model-folder')).catch((e) => e);
    expect(err).toBeInstanceOf(ModelDirError);
    expect(err.message).toMatch(/does not exist.*pnpm clip synth --arch tiny --out DIR/);
  });

  it('names a model file ONNX Runtime cannot load', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clip-broken-'));
    try {
      await cp(await syntheticModel('tiny'), dir, { recursive: true });
      await writeFile(path.join(dir, 'textual.onnx'), 'not a model');
      const err = await loadModel(dir, { device: 'cpu' }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelDirError);
      expect(err.message).toMatch(/textual\.onnx cannot be loaded.*pnpm clip synth/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('DEVICE=auto falls back to CPU with one log line when CUDA is missing; DEVICE=cuda says what to do', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const logger = createLogger('test', { level: 'info', destination });
    const dir = await syntheticModel('tiny');
    const auto = await loadModel(dir, { device: 'auto', logger });
    await auto.close();
    const cuda = await loadModel(dir, { device: 'cuda' }).catch((e) => e);
    if (auto.provider === 'cuda') {
      expect(cuda.provider).toBe('cuda');
      await cuda.close();
    } else {
      expect(lines.filter((l) => l.includes('CUDA not available'))).toHaveLength(1);
      expect(cuda).toBeInstanceOf(DeviceUnavailableError);
      expect(cuda.message).toContain('DEVICE=cpu');
    }
    expect(lines.some((l) => l.includes('"provider"') && l.includes('model loaded'))).toBe(true);
  });
});
