import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, Graph, writeModel } from '../src/onnx/graph.ts';

describe('ONNX writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clip-onnx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a model ONNX Runtime loads and runs, with dynamic axes, negative ints, floats and int64 weights', async () => {
    const g = new Graph('check');
    const x = g.input('x', 'float32', ['batch', 3]);
    const ids = g.input('ids', 'int64', ['batch', 'tokens']);
    const w = g.weight('w', [3, 2], Float32Array.from([1, 0, 0, 1, 1, 1]));
    const y = g.node('MatMul', [x, w]);
    g.node('Softmax', [g.node('Mul', [y, g.constFloat([2.5])])], { axis: attr.int(-1) }, 'probs');
    const picked = g.node('ArgMax', [ids], { axis: attr.int(-1), keepdims: attr.int(0) });
    g.node('Add', [picked, g.constInt([-1_000_000_000_000])], {}, 'shifted');
    g.node('LeakyRelu', [x], { alpha: attr.float(0.25) }, 'leaky');
    g.output('probs', 'float32', ['batch', 2]);
    g.output('shifted', 'int64', ['batch']);
    g.output('leaky', 'float32', ['batch', 3]);
    const file = path.join(dir, 'check.onnx');
    await writeModel(g, file);

    const session = await ort.InferenceSession.create(file);
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from([1, 0, -2, 0, 1, 0]), [2, 3]),
      ids: new ort.Tensor('int64', BigInt64Array.from([3n, 9n, 1n, 7n, 2n, 0n]), [2, 3]),
    });
    const probs = out.probs.data as Float32Array;
    // Row 0: y = [1 - 2, 0 - 2] = [-1, -2] → softmax of [-2.5, -5].
    expect(probs[0]).toBeCloseTo(1 / (1 + Math.exp(-2.5)), 6);
    // Row 1: y = [0, 1] → softmax of [0, 2.5].
    expect(probs[3]).toBeCloseTo(1 / (1 + Math.exp(-2.5)), 6);
    expect(Array.from(out.shifted.data as BigInt64Array)).toEqual([1n - 1_000_000_000_000n, -1_000_000_000_000n]);
    expect(Array.from(out.leaky.data as Float32Array)).toEqual([1, 0, -0.5, 0, 1, 0]);
    await session.release();
  });

  it('refuses a weight whose data does not fill its dims', () => {
    expect(() => new Graph('bad').weight('w', [2, 2], new Float32Array(3))).toThrow(/hold 4 values, got 3/);
  });
});
