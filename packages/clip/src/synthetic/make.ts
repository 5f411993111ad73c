// Makes synthetic model folders with the same contract as a real export (model.json, visual.onnx, textual.onnx, vocab),
// deterministically from a seed. Folders appear atomically, so parallel test workers can share one cache.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, type ModelManifest, readManifest } from '../manifest.ts';
import { writeModel } from '../onnx/graph.ts';
import { REFERENCE_FILE } from '../reference.ts';
import { Tokenizer } from '../tokenizer.ts';
import { writeSyntheticReference } from './reference.ts';
import { RN50_EMBED_DIM, RN50_IMAGE_SIZE, rn50Textual, rn50Visual } from './rn50.ts';
import { TINY_EMBED_DIM, TINY_IMAGE_SIZE, tinyTextual, tinyVisual } from './tiny.ts';
import { VIT_EMBED_DIM, VIT_IMAGE_SIZE, vitTextual, vitVisual } from './vit.ts';

export type SyntheticArch = 'tiny' | 'rn50' | 'vit-b-32' | 'vit-b-16';
export const SYNTHETIC_ARCHS: readonly SyntheticArch[] = ['tiny', 'rn50', 'vit-b-32', 'vit-b-16'];

/** Each arch's vector size and input picture size. */
const SHAPES: Record<SyntheticArch, { embedDim: number; imageSize: number }> = {
  tiny: { embedDim: TINY_EMBED_DIM, imageSize: TINY_IMAGE_SIZE },
  rn50: { embedDim: RN50_EMBED_DIM, imageSize: RN50_IMAGE_SIZE },
  'vit-b-32': { embedDim: VIT_EMBED_DIM, imageSize: VIT_IMAGE_SIZE },
  'vit-b-16': { embedDim: VIT_EMBED_DIM, imageSize: VIT_IMAGE_SIZE },
};
export const DEFAULT_SEED = 1234;
/** Bumped whenever a maker's output changes, so caches made by an older version are rebuilt. */
const GENERATOR = 'image-search-synthetic/3';

export const VOCAB_FILE = 'bpe_simple_vocab_16e6.txt.gz';
const OPENAI_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** The vocabulary to copy: the shared fixture when checked out beside the repository, else the package's own copy. */
export function vocabSource(): string {
  const packageRoot = path.resolve(import.meta.dirname, '../..');
  const shared = path.resolve(packageRoot, '../../../shared/fixtures/clip', VOCAB_FILE);
  return existsSync(shared) ? shared : path.join(packageRoot, 'assets', VOCAB_FILE);
}

function manifestFor(arch: SyntheticArch, seed: number): ModelManifest {
  return {
    name: `synthetic-${arch}`,
    pretrained: `seed${seed}`,
    ...SHAPES[arch],
    mean: OPENAI_MEAN,
    std: OPENAI_STD,
    interpolation: 'bicubic',
    resizeMode: 'shortest',
    contextLength: 77,
    dynamicTextLength: true,
    files: { visual: 'visual.onnx', textual: 'textual.onnx', vocab: VOCAB_FILE, reference: REFERENCE_FILE },
    synthetic: true,
    arch,
    seed,
  };
}

async function writeInto(dir: string, arch: SyntheticArch, seed: number): Promise<ModelManifest> {
  const manifest = manifestFor(arch, seed);
  await mkdir(dir, { recursive: true });
  const vocab = path.join(dir, VOCAB_FILE);
  // Read and write rather than copy: the source may be read-only, and a copy would keep that mode.
  await writeFile(vocab, await readFile(vocabSource()));
  const tokenizer = await Tokenizer.fromFile(vocab);
  if (arch === 'tiny') {
    await writeModel(tinyVisual(seed, manifest.mean, manifest.std), path.join(dir, manifest.files.visual));
    await writeModel(tinyTextual(seed, tokenizer), path.join(dir, manifest.files.textual));
  } else {
    // One tower at a time keeps peak memory near the larger tower's weights (~350 MB), not both.
    const patch = arch === 'vit-b-16' ? 16 : 32;
    await writeModel(
      arch === 'rn50' ? rn50Visual(seed) : vitVisual(seed, patch),
      path.join(dir, manifest.files.visual),
    );
    await writeModel(
      arch === 'rn50' ? rn50Textual(seed) : vitTextual(seed, patch),
      path.join(dir, manifest.files.textual),
    );
  }
  await writeSyntheticReference(dir, manifest);
  // model.json last: a folder with a manifest is a complete folder.
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify({ ...manifest, generator: GENERATOR }, null, 2)}\n`);
  return manifest;
}

/** Writes a synthetic model folder at `outDir` (made if needed; existing model files are replaced). */
export async function makeSyntheticModel(
  arch: SyntheticArch,
  outDir: string,
  opts: { seed?: number } = {},
): Promise<ModelManifest> {
  if (!SYNTHETIC_ARCHS.includes(arch))
    throw new RangeError(`unknown synthetic arch '${arch}'; use ${SYNTHETIC_ARCHS.join(', ')}`);
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  return writeInto(path.resolve(outDir), arch, seed);
}

async function isCurrent(dir: string, arch: SyntheticArch): Promise<boolean> {
  try {
    const m = await readManifest(dir);
    const raw = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as { generator?: string };
    return m.synthetic && m.arch === arch && m.seed === DEFAULT_SEED && raw.generator === GENERATOR;
  } catch {
    return false;
  }
}

/**
 * Returns `outDir` holding the synthetic model with the default seed, making it only when it is missing or was made by
 * an older generator. Built in a sibling temporary folder and renamed into place, so concurrent callers never see a
 * half-written model.
 */
export async function ensureSyntheticModel(arch: SyntheticArch, outDir: string): Promise<string> {
  const dir = path.resolve(outDir);
  if (await isCurrent(dir, arch)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await writeInto(tmp, arch, DEFAULT_SEED);
    if (await isCurrent(dir, arch)) return dir; // someone else finished first
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (err) {
      if (!(await isCurrent(dir, arch))) throw err;
    }
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
