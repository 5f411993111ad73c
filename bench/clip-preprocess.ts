// Preprocessing throughput on real photos (decode + Pillow-exact resize/crop + normalise, one process) and tokenizer
// latency per query. `pnpm exec tsx bench/clip-preprocess.ts [--quick]`.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preprocessImage, Tokenizer } from '@image-search/clip';
import sharp from 'sharp';
import { runIfMain } from './standalone.ts';
import { median } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures');
const COCO = path.join(FIXTURES, 'images/coco-mini');
const VOCAB = path.join(FIXTURES, 'clip/bpe_simple_vocab_16e6.txt.gz');

// OpenAI CLIP's normalisation at 224 px (RN50/openai).
const OPTS = {
  imageSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073] as [number, number, number],
  std: [0.26862954, 0.26130258, 0.27577711] as [number, number, number],
};

async function loadPhotos(limit: number): Promise<Buffer[]> {
  const files: string[] = [];
  for (const sub of ['val2017', 'train2017']) {
    const dir = path.join(COCO, sub);
    if (!existsSync(dir)) continue;
    for (const f of (await readdir(dir)).sort()) if (/\.jpe?g$/i.test(f)) files.push(path.join(dir, f));
  }
  if (files.length === 0) throw new Error(`no photos in ${COCO} (shared fixtures missing)`);
  return Promise.all(files.slice(0, limit).map((f) => readFile(f)));
}

async function loadQueries(limit: number): Promise<string[]> {
  const file = path.join(COCO, 'annotations/captions_val2017.json');
  const fallback = ['a photo of a dog', 'red car at night', 'sunset over mountains', 'two cats sleeping on a couch'];
  if (!existsSync(file)) return fallback;
  const { annotations } = JSON.parse(await readFile(file, 'utf8')) as { annotations: Array<{ caption: string }> };
  return annotations.slice(0, limit).map((a) => a.caption);
}

/** Images per second over `reps` passes (after one warm-up pass), `concurrency` images in flight. */
async function throughput(
  photos: Buffer[],
  reps: number,
  concurrency: number,
  one: (photo: Buffer) => Promise<unknown>,
): Promise<number[]> {
  const pass = async () => {
    let next = 0;
    const worker = async () => {
      while (next < photos.length) await one(photos[next++]!);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await pass();
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await pass();
    samples.push(photos.length / ((performance.now() - t0) / 1000));
  }
  return samples;
}

/** Microseconds per query: warm = every word already in the cache; cold = a fresh tokenizer each pass. */
function tokenizerLatency(tokenizer: Tokenizer, queries: string[], reps: number): number[] {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const q of queries) tokenizer.tokenize(q);
    samples.push(((performance.now() - t0) * 1000) / queries.length);
  }
  return samples;
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const photos = await loadPhotos(opts.quick ? 60 : 239);
  const reps = opts.quick ? 3 : 5;
  const round = (samples: number[]) => Math.round(median(samples) * 10) / 10;

  const decodeOnly = await throughput(photos, reps, 1, (p) =>
    sharp(p, { autoOrient: true, ignoreIcc: true }).raw().toBuffer(),
  );
  const sequential = await throughput(photos, reps, 1, (p) => preprocessImage(p, OPTS));
  const pipelined = await throughput(photos, reps, 2, (p) => preprocessImage(p, OPTS));
  const withThumb = await throughput(photos, reps, 1, (p) =>
    preprocessImage(p, { ...OPTS, thumbnail: { maxSize: 256 } }),
  );
  const decodeBaseline = { name: 'sharp decode to raw RGB only', value: round(decodeOnly) };
  const figures: BenchFigure[] = [
    {
      name: `preprocess ${photos.length} COCO photos, 1 at a time`,
      value: round(sequential),
      unit: 'img/s',
      baseline: decodeBaseline,
      ratio: Math.round((median(sequential) / median(decodeOnly)) * 100) / 100,
      target: '≥ 100 img/s on one core; ≥ 3× the image tower',
      samples: sequential,
    },
    {
      name: 'preprocess, 2 in flight (decode overlaps resample)',
      value: round(pipelined),
      unit: 'img/s',
      baseline: decodeBaseline,
      ratio: Math.round((median(pipelined) / median(decodeOnly)) * 100) / 100,
      samples: pipelined,
    },
    {
      name: 'preprocess + 256 px WebP thumbnail, 1 at a time',
      value: round(withThumb),
      unit: 'img/s',
      samples: withThumb,
    },
  ];

  if (existsSync(VOCAB)) {
    const queries = await loadQueries(opts.quick ? 500 : 5000);
    const t0 = performance.now();
    const tokenizer = await Tokenizer.fromFile(VOCAB);
    const loadMs = performance.now() - t0;
    const cold: number[] = [];
    for (let r = 0; r < reps; r++) cold.push(tokenizerLatency(await Tokenizer.fromFile(VOCAB), queries, 1)[0]!);
    tokenizerLatency(tokenizer, queries, 1);
    const warm = tokenizerLatency(tokenizer, queries, reps);
    figures.push(
      {
        name: `tokenize a COCO caption, warm word cache (${queries.length} captions)`,
        value: Math.round(median(warm) * 100) / 100,
        unit: 'µs',
        target: 'microseconds, not milliseconds',
        samples: warm,
      },
      {
        name: 'tokenize a COCO caption, cold cache (fresh tokenizer)',
        value: Math.round(median(cold) * 100) / 100,
        unit: 'µs',
        samples: cold,
      },
      { name: 'load the BPE vocabulary', value: Math.round(loadMs), unit: 'ms' },
    );
  }
  return figures;
}

await runIfMain(import.meta.url, run);
