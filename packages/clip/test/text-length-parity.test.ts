// Issue 10: trimming token rows to the batch's longest sequence must not change the text embedding.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClipModel, loadModel } from '../src/encoders.ts';
import { fixture } from './fixtures.ts';
import { syntheticModel } from './models.ts';

const golden = fixture('clip/tokenizer-golden.json');
const models: ClipModel[] = [];
const sessions: ort.InferenceSession[] = [];

afterAll(async () => {
  for (const m of models) await m.close();
  for (const s of sessions) await s.release();
});

interface GoldenCase {
  text: string;
  tokens: number[];
}

/** Embeddings of rows padded to the full 77, straight from the ONNX file, L2-normalised like the encoder does. */
async function fullLength(model: ClipModel, rows: number[][]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(path.join(model.dir, model.manifest.files.textual));
  sessions.push(session);
  const ids = BigInt64Array.from(rows.flat().map((x) => BigInt(x)));
  const out = (await session.run({ text: new ort.Tensor('int64', ids, [rows.length, 77]) })).embedding;
  const data = out.data as Float32Array;
  const D = model.manifest.embedDim;
  return rows.map((_, r) => {
    const row = data.slice(r * D, (r + 1) * D);
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(golden.missing)(`trimmed vs full-length text (${golden.missing ?? 'golden tokenizer cases'})`, () => {
  async function cases(): Promise<GoldenCase[]> {
    return (JSON.parse(await readFile(golden.path, 'utf8')) as { cases: GoldenCase[] }).cases;
  }

  async function check(arch: 'tiny' | 'rn50', pick: (all: GoldenCase[]) => GoldenCase[]) {
    const model = await loadModel(await syntheticModel(arch), { threads: 2 });
    models.push(model);
    expect(model.manifest.dynamicTextLength).toBe(true);
    const chosen = pick(await cases());
    // One query at a time, as the search API sends them: each is trimmed to its own length.
    const full = await fullLength(
      model,
      chosen.map((c) => c.tokens),
    );
    for (let i = 0; i < chosen.length; i++) {
      const [trimmed] = await model.text.embed([chosen[i].text]);
      expect(maxAbsDiff(trimmed, full[i]), chosen[i].text).toBeLessThan(1e-5);
    }
    // And as a batch, trimmed to its longest row.
    const batch = await model.text.embed(chosen.map((c) => c.text));
    for (let i = 0; i < batch.length; i++) {
      expect(maxAbsDiff(batch[i], full[i]), chosen[i].text).toBeLessThan(1e-5);
    }
  }

  it('tiny: every golden case', async () => {
    await check('tiny', (all) => all.filter((c) => !(c as { tags?: string[] }).tags?.includes('mojibake')));
  });

  it('rn50 (OpenCLIP RN50 text transformer shape): short, medium and truncated cases', async () => {
    await check('rn50', (all) => {
      const byLength = [...all].sort((a, b) => a.tokens.indexOf(49407) - b.tokens.indexOf(49407));
      return [byLength[0], byLength[Math.floor(byLength.length / 2)], byLength[byLength.length - 1]];
    });
  }, 120_000);
});
