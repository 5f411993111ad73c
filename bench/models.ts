// What each model the README's table offers costs here, measured with the synthetic maker's model of that shape
// (random weights, the real compute): image-tower throughput at the embedder's batch (BATCH_SIZE, 32) and text-tower
// p50 for one 8-word query, as a search sends it. Ratios are to rn50 (the default model) in the same run; the towers
// run one model at a time, text queries interleaved across models so they see the same load.
// `pnpm exec tsx bench/models.ts [--quick]`.
import os from 'node:os';
import path from 'node:path';
import { type ClipModel, ensureSyntheticModel, loadModel, type SyntheticArch } from '@image-search/clip';
import { runIfMain } from './standalone.ts';
import { median, timeRuns } from './stats.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

/** Each synthetic shape and the OpenCLIP models it stands for. */
const SHAPES: Array<[SyntheticArch, string]> = [
  ['rn50', 'RN50'],
  ['vit-b-32', 'ViT-B-32'],
  ['vit-b-16', 'ViT-B-16'],
];
const BATCH = 32;
const QUERY = 'a brown dog running along the sandy beach';

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

export async function run(opts: BenchOptions): Promise<BenchFigure[]> {
  const threads = os.availableParallelism();
  const loadAtStart = os.loadavg()[0];
  const models: ClipModel[] = [];
  try {
    for (const [arch] of SHAPES) {
      const dir = await ensureSyntheticModel(arch, path.join(os.tmpdir(), 'image-search-models', arch));
      const model = await loadModel(dir, { device: 'cpu', threads });
      models.push(model);
      await model.warmUp();
    }
    const rates = models.map(() => [] as number[]);
    const textMs = models.map(() => [] as number[]);
    const S = 224;
    const tensors = Array.from({ length: BATCH }, () => Float32Array.from({ length: 3 * S * S }, () => Math.random()));
    for (const [i, model] of models.entries()) {
      const ms = await timeRuns(() => model.image.embed(tensors), opts.quick ? 2 : 4, 1);
      rates[i] = ms.map((t) => (BATCH * 1000) / t);
    }
    for (const model of models) await model.text.embed([QUERY]);
    for (let rep = 0; rep < (opts.quick ? 15 : 40); rep++) {
      for (const [i, model] of models.entries()) {
        const t0 = performance.now();
        await model.text.embed([QUERY]);
        textMs[i].push(performance.now() - t0);
      }
    }
    const figures: BenchFigure[] = [];
    for (const [i, [arch, name]] of SHAPES.entries()) {
      const baseline = (what: string, values: number[][]) => ({ name: `rn50 ${what}`, value: median(values[0]) });
      figures.push({
        name: `image tower ${name} shape (${arch}), batch ${BATCH}, ${threads} threads`,
        value: round1(median(rates[i])),
        unit: 'img/s',
        ...(i > 0 && { baseline: baseline('img/s', rates), ratio: round2(median(rates[i]) / median(rates[0])) }),
        samples: rates[i].map(round1),
      });
      figures.push({
        name: `text tower ${name} shape (${arch}), 8-word query, p50`,
        value: round2(median(textMs[i])),
        unit: 'ms',
        ...(i > 0 && { baseline: baseline('text p50', textMs), ratio: round2(median(textMs[i]) / median(textMs[0])) }),
        samples: textMs[i].map(round2),
      });
    }
    figures.push({ name: `load average at start (1 min, ${os.cpus().length} CPUs)`, value: loadAtStart, unit: 'load' });
    return figures;
  } finally {
    for (const model of models) await model.close();
  }
}

await runIfMain(import.meta.url, run);
