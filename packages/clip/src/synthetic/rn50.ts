// The `rn50` synthetic CLIP: random weights with the compute shape of OpenCLIP RN50, for benchmarks.
// Image: ModifiedResNet-50 at 224 px (3-conv stem, bottlenecks [3,4,6,3], avg-pool downsampling, attention pooling),
// BatchNorm folded into conv biases as an optimised export has it. Text: 12-layer width-512 causal transformer,
// positional embedding and mask sliced to the input length L, end token picked by argmax, projection to 1024.
import { attr, Graph } from '../onnx/graph.ts';
import { Rng } from './random.ts';

export const RN50_IMAGE_SIZE = 224;
export const RN50_EMBED_DIM = 1024;
const CONTEXT_LENGTH = 77;
const VOCAB_SIZE = 49408;
const WIDTH = 512;
const HEADS = 8;
const LAYERS = 12;
/** Residual branches end with a scaled-down conv so activations stay finite without BatchNorm statistics. */
const RESIDUAL_GAIN = 0.2;

class Weights {
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

function conv(w: Weights, name: string, x: string, cin: number, cout: number, k: number, stride = 1, gain = 1): string {
  const std = gain * Math.sqrt(2 / (cin * k * k));
  const pad = (k - 1) / 2;
  return w.g.node(
    'Conv',
    [x, w.centred(`${name}.weight`, [cout, cin, k, k], std, 'first'), w.random(`${name}.bias`, [cout], 0.01)],
    { kernel_shape: attr.ints([k, k]), pads: attr.ints([pad, pad, pad, pad]), strides: attr.ints([stride, stride]) },
  );
}

function avgPool(g: Graph, x: string, k: number): string {
  return g.node('AveragePool', [x], { kernel_shape: attr.ints([k, k]), strides: attr.ints([k, k]) });
}

function bottleneck(w: Weights, name: string, x: string, inplanes: number, planes: number, stride: number): string {
  const g = w.g;
  let out = g.node('Relu', [conv(w, `${name}.conv1`, x, inplanes, planes, 1)]);
  out = g.node('Relu', [conv(w, `${name}.conv2`, out, planes, planes, 3)]);
  if (stride > 1) out = avgPool(g, out, stride);
  out = conv(w, `${name}.conv3`, out, planes, planes * 4, 1, 1, RESIDUAL_GAIN);
  let identity = x;
  if (stride > 1 || inplanes !== planes * 4) {
    if (stride > 1) identity = avgPool(g, identity, stride);
    identity = conv(w, `${name}.downsample`, identity, inplanes, planes * 4, 1, 1, Math.SQRT1_2);
  }
  return g.node('Relu', [g.node('Add', [out, identity])]);
}

function linear(w: Weights, name: string, x: string, din: number, dout: number, std: number, centred = false): string {
  const weight = centred
    ? w.centred(`${name}.weight`, [din, dout], std, 'last')
    : w.random(`${name}.weight`, [din, dout], std);
  const y = w.g.node('MatMul', [x, weight]);
  return w.g.node('Add', [y, w.constant(`${name}.bias`, [dout], 0)]);
}

/** [N, T, heads·d] → [N, heads, T, d] (or [N, heads, d, T] for keys). */
function splitHeads(g: Graph, x: string, tokens: number, heads: number, transposeForKeys = false): string {
  const r = g.node('Reshape', [x, g.constInt([0, tokens, heads, -1])]);
  return g.node('Transpose', [r], { perm: attr.ints(transposeForKeys ? [0, 2, 3, 1] : [0, 2, 1, 3]) });
}

function attentionPool(w: Weights, x: string, spatial: number, width: number, heads: number, out: number): string {
  const g = w.g;
  const tokens = spatial * spatial + 1;
  const seq = g.node('Transpose', [g.node('Reshape', [x, g.constInt([0, width, -1])])], { perm: attr.ints([0, 2, 1]) });
  const mean = g.node('ReduceMean', [seq], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const withPos = g.node('Add', [
    g.node('Concat', [mean, seq], { axis: attr.int(1) }),
    w.random('attnpool.positional_embedding', [tokens, width], width ** -0.5),
  ]);
  const query = g.node('Slice', [withPos, g.constInt([0]), g.constInt([1]), g.constInt([1])]);
  const std = width ** -0.5;
  const q = splitHeads(g, linear(w, 'attnpool.q_proj', query, width, width, std, true), 1, heads);
  const k = splitHeads(g, linear(w, 'attnpool.k_proj', withPos, width, width, std, true), tokens, heads, true);
  const v = splitHeads(g, linear(w, 'attnpool.v_proj', withPos, width, width, std, true), tokens, heads);
  const scores = g.node('Mul', [g.node('MatMul', [q, k]), g.constFloat([(width / heads) ** -0.5])]);
  const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: attr.int(-1) }), v]);
  const merged = g.node('Reshape', [
    g.node('Transpose', [attn], { perm: attr.ints([0, 2, 1, 3]) }),
    g.constInt([0, width]),
  ]);
  return linear(w, 'attnpool.c_proj', merged, width, out, std);
}

export function rn50Visual(seed: number): Graph {
  const g = new Graph('rn50_visual');
  const w = new Weights(g, seed ^ 0x5eed1);
  const image = g.input('image', 'float32', ['batch', 3, RN50_IMAGE_SIZE, RN50_IMAGE_SIZE]);
  let x = g.node('Relu', [conv(w, 'stem.conv1', image, 3, 32, 3, 2)]);
  x = g.node('Relu', [conv(w, 'stem.conv2', x, 32, 32, 3)]);
  x = g.node('Relu', [conv(w, 'stem.conv3', x, 32, 64, 3)]);
  x = avgPool(g, x, 2);
  let inplanes = 64;
  const stages: Array<[planes: number, blocks: number, stride: number]> = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ];
  stages.forEach(([planes, blocks, stride], s) => {
    for (let b = 0; b < blocks; b++) {
      x = bottleneck(w, `layer${s + 1}.${b}`, x, inplanes, planes, b === 0 ? stride : 1);
      inplanes = planes * 4;
    }
  });
  // 224 / 32 = 7: the stem halves twice, three stages halve once each.
  const pooled = attentionPool(w, x, RN50_IMAGE_SIZE / 32, 2048, 32, RN50_EMBED_DIM);
  g.node('Identity', [pooled], {}, 'embedding');
  g.output('embedding', 'float32', ['batch', RN50_EMBED_DIM]);
  return g;
}

function layerNorm(w: Weights, name: string, x: string): string {
  return w.g.node(
    'LayerNormalization',
    [x, w.constant(`${name}.weight`, [WIDTH], 1), w.constant(`${name}.bias`, [WIDTH], 0)],
    { axis: attr.int(-1), epsilon: attr.float(1e-5) },
  );
}

function textBlock(w: Weights, i: number, x: string, mask: string): string {
  const g = w.g;
  const name = `transformer.resblocks.${i}`;
  const attnStd = WIDTH ** -0.5;
  const projStd = WIDTH ** -0.5 * (2 * LAYERS) ** -0.5;
  const qkv = linear(w, `${name}.attn.in_proj`, layerNorm(w, `${name}.ln_1`, x), WIDTH, 3 * WIDTH, attnStd);
  const [q, k, v] = g.nodeN('Split', [qkv, g.constInt([WIDTH, WIDTH, WIDTH])], { axis: attr.int(-1) }, 3);
  const scores = g.node('Add', [
    g.node('Mul', [
      g.node('MatMul', [splitHeads(g, q, 0, HEADS), splitHeads(g, k, 0, HEADS, true)]),
      g.constFloat([(WIDTH / HEADS) ** -0.5]),
    ]),
    mask,
  ]);
  const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: attr.int(-1) }), splitHeads(g, v, 0, HEADS)]);
  const merged = g.node('Reshape', [
    g.node('Transpose', [attn], { perm: attr.ints([0, 2, 1, 3]) }),
    g.constInt([0, 0, WIDTH]),
  ]);
  x = g.node('Add', [x, linear(w, `${name}.attn.out_proj`, merged, WIDTH, WIDTH, projStd)]);
  const fc = linear(w, `${name}.mlp.c_fc`, layerNorm(w, `${name}.ln_2`, x), WIDTH, 4 * WIDTH, (2 * WIDTH) ** -0.5);
  const gelu = g.node('Mul', [fc, g.node('Sigmoid', [g.node('Mul', [fc, g.constFloat([1.702])])])]);
  return g.node('Add', [x, linear(w, `${name}.mlp.c_proj`, gelu, 4 * WIDTH, WIDTH, projStd)]);
}

export function rn50Textual(seed: number): Graph {
  const g = new Graph('rn50_textual');
  const w = new Weights(g, seed ^ 0x7e47);
  const text = g.input('text', 'int64', ['batch', 'tokens']);
  const length = g.node('Slice', [g.node('Shape', [text]), g.constInt([1]), g.constInt([2])]);
  let x = g.node('Gather', [w.random('token_embedding', [VOCAB_SIZE, WIDTH], 0.02), text], { axis: attr.int(0) });
  const positional = w.random('positional_embedding', [CONTEXT_LENGTH, WIDTH], 0.01);
  x = g.node('Add', [x, g.node('Slice', [positional, g.constInt([0]), length, g.constInt([0])])]);

  const causal = new Float32Array(CONTEXT_LENGTH * CONTEXT_LENGTH);
  for (let r = 0; r < CONTEXT_LENGTH; r++)
    causal.fill(Number.NEGATIVE_INFINITY, r * CONTEXT_LENGTH + r + 1, (r + 1) * CONTEXT_LENGTH);
  const fullMask = g.weight('attn_mask', [CONTEXT_LENGTH, CONTEXT_LENGTH], causal);
  const mask = g.node('Slice', [
    fullMask,
    g.constInt([0, 0]),
    g.node('Concat', [length, length], { axis: attr.int(0) }),
    g.constInt([0, 1]),
  ]);
  for (let i = 0; i < LAYERS; i++) x = textBlock(w, i, x, mask);
  x = layerNorm(w, 'ln_final', x);
  // The end token has the highest id, so argmax finds it, as OpenCLIP's encode_text does.
  const eot = g.node('ArgMax', [text], { axis: attr.int(1), keepdims: attr.int(1) });
  const features = g.node('GatherND', [x, eot], { batch_dims: attr.int(1) });
  g.node('MatMul', [features, w.random('text_projection', [WIDTH, RN50_EMBED_DIM], WIDTH ** -0.5)], {}, 'embedding');
  g.output('embedding', 'float32', ['batch', RN50_EMBED_DIM]);
  return g;
}
