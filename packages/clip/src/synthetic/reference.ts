// Reference embeddings for a synthetic model, computed by its maker with ONNX Runtime on the CPU right after the model
// is written: checking them later catches a damaged folder or a runtime (device, version) that computes differently.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { openModel } from '../encoders.ts';
import type { ModelManifest } from '../manifest.ts';
import { embedReferenceInputs, writeReference } from '../reference.ts';

const TEXTS = ['a red car', 'blue sky over green hills', '', 'A busy street market in the evening, with lanterns'];

/** Generated pictures (name → PNG): flat colours and a gradient, larger and smaller than the model's input. */
async function pictures(): Promise<Array<[string, Buffer]>> {
  const [width, height] = [300, 200];
  const gradient = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    gradient[i * 3] = Math.round(((i % width) / (width - 1)) * 255);
    gradient[i * 3 + 1] = Math.round((Math.floor(i / width) / (height - 1)) * 255);
    gradient[i * 3 + 2] = 96;
  }
  const flat = (w: number, h: number, r: number, g: number, b: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer();
  return [
    ['red', await flat(80, 60, 220, 30, 30)],
    ['blue', await flat(40, 90, 30, 50, 220)],
    [
      'gradient',
      await sharp(gradient, { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer(),
    ],
  ];
}

/** Writes reference/*.png and the reference file into `dir`, whose model files `manifest` already describes. */
export async function writeSyntheticReference(dir: string, manifest: ModelManifest): Promise<void> {
  await mkdir(path.join(dir, 'reference'), { recursive: true });
  const files: string[] = [];
  for (const [name, png] of await pictures()) {
    files.push(`reference/${name}.png`);
    await writeFile(path.join(dir, files[files.length - 1]), png);
  }
  const model = await openModel(dir, manifest, { device: 'cpu', threads: 1 });
  try {
    const vectors = await embedReferenceInputs(model, TEXTS, files);
    await writeReference(dir, {
      producer: 'the synthetic model maker (ONNX Runtime, CPU)',
      texts: TEXTS.map((text, n) => ({ text, embedding: Array.from(vectors.texts[n]) })),
      images: files.map((file, n) => ({ file, embedding: Array.from(vectors.images[n]) })),
    });
  } finally {
    await model.close();
  }
}
