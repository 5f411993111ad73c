// Building blocks the synthetic model makers share: seeded weights, linear layers, layer norm, and the pre-norm
// transformer block of OpenCLIP's text tower and vision transformer.
import { attr, type Graph } from '../onnx/graph.ts';
import { Rng } from './random.ts';

export class Weights {
  private readonly rng: Rng;
  constructor(
    readonly g: Graph,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  random(name: string, dims: number[], std: number): string {
    return this.g.weight(
      name,
      dims,
      this.rng.fill(
        dims.reduce((a, b) => a * b, 1),
        std,
      ),
    );
  }

  /**
   * Like `random`, but every output unit's weights sum to zero. Inputs after a ReLU share a positive mean, and without
   * BatchNorm statistics that mean would flow through as an input-independent offset, until every picture gets nearly
   * the same vector; zero-sum filters cancel it, as BatchNorm does in the trained model.
   */
  centred(name: string, dims: number[], std: number, outputAxis: 'first' | 'last'): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = this.rng.fill(size, std);
    if (outputAxis === 'first') {
      const per = size / dims[0];
      for (let o = 0; o < dims[0]; o++) {
        const row = data.subarray(o * per, (o + 1) * per);
        const mean = row.reduce((a, v) => a + v, 0) / per;
        for (let i = 0; i < per; i++) row[i] -= mean;
      }
    } else {
      const cols = dims[dims.length - 1];
      const rows = size / cols;
      const means = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) means[c] += data[r * cols + c] / rows;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] -= means[c];
    }
    return this.g.weight(name, dims, data);
  }

  constant(name: string, dims: number[], value: number): string {
    return this.g.weight(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
  }
}

export function linear(
  w: Weights,
  name: string,
  x: string,
  din: number,
  dout: number,
  std: number,
  centred = false,
): string {
  const weight = centred
    ? w.centred(`${name}.weight`, [din, dout], std, 'last')
    : w.random(`${name}.weight`, [din, dout], std);
  const y = w.g.node('MatMul', [x, weight]);
  return w.g.node('Add', [y, w.constant(`${name}.bias`, [dout], 0)]);
}

/** [N, T, heads·d] → [N, heads, T, d] (or [N, heads, d, T] for keys). */
export function splitHeads(g: Graph, x: string, tokens: number, heads: number, transposeForKeys = false): string {
  const r = g.node('Reshape', [x, g.constInt([0, tokens, heads, -1])]);
  return g.node('Transpose', [r], { perm: attr.ints(transposeForKeys ? [0, 2, 3, 1] : [0, 2, 1, 3]) });
}

export function layerNorm(w: Weights, name: string, x: string, width: number): string {
  return w.g.node(
    'LayerNormalization',
    [x, w.constant(`${name}.weight`, [width], 1), w.constant(`${name}.bias`, [width], 0)],
    { axis: attr.int(-1), epsilon: attr.float(1e-5) },
  );
}

export interface TransformerShape {
  width: number;
  heads: number;
  layers: number;
}

/**
 * One residual attention block (attention then a 4× MLP with QuickGELU, each after a layer norm), over tokens of a
 * length fixed by the graph or dynamic; `mask` (added to the attention scores) makes it causal.
 */
export function residualBlock(w: Weights, name: string, x: string, shape: TransformerShape, mask?: string): string {
  const g = w.g;
  const { width, heads, layers } = shape;
  const attnStd = width ** -0.5;
  const projStd = width ** -0.5 * (2 * layers) ** -0.5;
  const qkv = linear(w, `${name}.attn.in_proj`, layerNorm(w, `${name}.ln_1`, x, width), width, 3 * width, attnStd);
  const [q, k, v] = g.nodeN('Split', [qkv, g.constInt([width, width, width])], { axis: attr.int(-1) }, 3);
  const scaled = g.node('Mul', [
    g.node('MatMul', [splitHeads(g, q, 0, heads), splitHeads(g, k, 0, heads, true)]),
    g.constFloat([(width / heads) ** -0.5]),
  ]);
  const scores = mask ? g.node('Add', [scaled, mask]) : scaled;
  const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: attr.int(-1) }), splitHeads(g, v, 0, heads)]);
  const merged = g.node('Reshape', [
    g.node('Transpose', [attn], { perm: attr.ints([0, 2, 1, 3]) }),
    g.constInt([0, 0, width]),
  ]);
  x = g.node('Add', [x, linear(w, `${name}.attn.out_proj`, merged, width, width, projStd)]);
  const fc = linear(
    w,
    `${name}.mlp.c_fc`,
    layerNorm(w, `${name}.ln_2`, x, width),
    width,
    4 * width,
    (2 * width) ** -0.5,
  );
  const gelu = g.node('Mul', [fc, g.node('Sigmoid', [g.node('Mul', [fc, g.constFloat([1.702])])])]);
  return g.node('Add', [x, linear(w, `${name}.mlp.c_proj`, gelu, 4 * width, width, projStd)]);
}
