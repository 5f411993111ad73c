// Model speed with the synthetic rn50 (OpenCLIP RN50 compute shape, random weights) on onnxruntime-node:
// image-tower throughput at batch 1, 8, 32; text-tower latency trimmed vs padded to 77 (issue 10); and how much faster
// preprocessing is than the image tower (issue 3: ≥ 3×, so it never limits the embedder).
// `pnpm exec tsx bench/clip.ts [--quick]`.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClipModel,
  ensureSyntheticModel,
  loadModel,
  preprocessImage,
  preprocessOptionsFor,
} from '@image-search/clip';
import { runIfMain } from './standalone.ts';
import { median, timeRuns } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COCO = path.resolve(ROOT, '../shared/fixtures/images/coco-mini');
const MODEL_CACHE = path.join(os.tmpdir(), 'image-search-models', 'rn50');

const QUERIES: Array<[words: number, text: string]> = [
  [3, 'red sports car'],
  [8, 'a brown dog running along the sandy beach'],
  [
    20,
    'a crowded city street at night with bright neon signs, yellow taxis, people holding umbrellas and reflections on the road',
  ],
];

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Times `a` and `b` alternately (after one warm-up each), so both see the same background load on a shared machine;
 * returns milliseconds per run for each.
 */
async function interleaved(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  reps: number,
): Promise<[number[], number[]]> {
  await a();
  await b();
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    await a();
    sa.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    sb.push(performance.now() - t0);
  }
  return [sa, sb];
}

/** The same model folder, declared fixed-length: the encoder then pads every query to 77 tokens, as older exports do. */
async function paddedTwin(dir: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const twin = await mkdtemp(path.join(os.tmpdir(), 'bench-clip-padded-'));
  for (const f of await readdir(dir)) if (f !== 'model.json') await symlink(path.join(dir, f), path.join(twin, f));
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  await writeFile(path.join(twin, 'model.json'), JSON.stringify({ ...manifest, dynamicTextLength: false }));
  return { dir: twin, cleanup: () => rm(twin, { recursive: true, force: true }) };
}

/** Preprocessed tensors of real photos when the fixtures are there (else synthetic noise of the right size). */
async function photoTensors(model: ClipModel, n: number): Promise<{ tensors: Float32Array[]; files: Buffer[] }> {
  const files: Buffer[] = [];
  for (const sub of ['val2017', 'train2017']) {
    const dir = path.join(COCO, sub);
    if (!existsSync(dir)) continue;
    for (const f of (await readdir(dir)).sort()) {
      if (/\.jpe?g$/i.test(f) && files.length < n) files.push(await readFile(path.join(dir, f)));
    }
  }
  const opts = preprocessOptionsFor(model.manifest);
  const tensors: Float32Array[] = [];
  for (const f of files) tensors.push((await preprocessImage(f, opts)).tensor);
  const S = model.manifest.imageSize;
  while (tensors.length < n) tensors.push(Float32Array.from({ length: 3 * S * S }, () => Math.random() * 2 - 1));
  return { tensors, files };
}

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const threads = os.availableParallelism();
  // On a shared machine the figures below mean little without the load they were taken under.
  const loadAtStart = os.loadavg()[0];
  const made = performance.now();
  const dir = await ensureSyntheticModel('rn50', MODEL_CACHE);
  const madeMs = performance.now() - made;
  const model = await loadModel(dir, { device: 'cpu', threads });
  const padded = await paddedTwin(dir);
  const paddedModel = await loadModel(padded.dir, { device: 'cpu', threads });
  const figures: BenchFigure[] = [];
  try {
    await model.warmUp();
    await paddedModel.warmUp();
    const { tensors, files } = await photoTensors(model, 32);

    // Image tower: img/s per batch size, median over repetitions.
    for (const batch of [1, 8, 32]) {
      const reps = opts.quick ? Math.max(2, 8 / batch) : Math.max(3, 32 / batch);
      const ms = await timeRuns(() => model.image.embed(tensors.slice(0, batch)), reps, 1);
      const rates = ms.map((t) => (batch * 1000) / t);
      figures.push({
        name: `image tower rn50, batch ${batch} (${threads} threads)`,
        value: round1(median(rates)),
        unit: 'img/s',
        samples: rates.map(round1),
      });
    }

    // Text tower: one query, trimmed to its own length vs padded to 77.
    for (const [words, text] of QUERIES) {
      const tokens = model.tokenizer.encode(text).length + 2;
      const [trimmed, full] = await interleaved(
        () => model.text.embed([text]),
        () => paddedModel.text.embed([text]),
        opts.quick ? 10 : 30,
      );
      figures.push({
        name: `text tower rn50, ${words}-word query trimmed to ${tokens} tokens, p50`,
        value: round2(median(trimmed)),
        unit: 'ms',
        baseline: { name: 'padded to 77 tokens', value: round2(median(full)) },
        ratio: round2(median(full) / median(trimmed)),
        target: 'trimmed faster than padded, same vector (parity test)',
        samples: trimmed.map(round2),
      });
    }

    // Preprocessing (one at a time, as one embedder worker does) against the image tower at the embedder's batch 32,
    // measured alternately so both see the same load; the figure is the median of the per-pass ratios.
    if (files.length > 0) {
      const preOpts = preprocessOptionsFor(model.manifest);
      const [preMs, towerMs] = await interleaved(
        async () => {
          for (const f of files) await preprocessImage(f, preOpts);
        },
        () => model.image.embed(tensors.slice(0, files.length)),
        opts.quick ? 2 : 4,
      );
      const ratios = preMs.map((t, i) => towerMs[i] / t);
      const pre = (files.length * 1000) / median(preMs);
      figures.push({
        name: `preprocess ${files.length} COCO photos at 224 px, 1 at a time`,
        value: round1(pre),
        unit: 'img/s',
        baseline: {
          name: `image tower rn50, batch ${files.length}`,
          value: round1((files.length * 1000) / median(towerMs)),
        },
        ratio: round2(median(ratios)),
        target: '≥ 3× the image tower',
        samples: preMs.map((t) => round1((files.length * 1000) / t)),
      });
    }
    figures.push({
      name: `load average at start (1 min, ${os.cpus().length} CPUs)`,
      value: round2(loadAtStart),
      unit: 'load',
    });
    figures.push({ name: 'make or reuse the synthetic rn50 model', value: Math.round(madeMs), unit: 'ms' });
  } finally {
    await model.close();
    await paddedModel.close();
    await padded.cleanup();
  }
  return figures;
}

await runIfMain(import.meta.url, run);
