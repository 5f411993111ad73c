// The `rn50` synthetic CLIP: random weights with the compute shape of OpenCLIP RN50, for benchmarks.
// Image: ModifiedResNet-50 at 224 px (3-conv stem, bottlenecks [3,4,6,3], avg-pool downsampling, attention pooling),
// BatchNorm folded into conv biases as an optimised export has it. Text: the CLIP text tower, projected to 1024.
import { attr, Graph } from '../onnx/graph.ts';
import { linear, splitHeads, Weights } from './layers.ts';
import { clipTextTower } from './text-tower.ts';

export const RN50_IMAGE_SIZE = 224;
export const RN50_EMBED_DIM = 1024;
/** Residual branches end with a scaled-down conv so activations stay finite without BatchNorm statistics. */
const RESIDUAL_GAIN = 0.2;

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

export function rn50Textual(seed: number): Graph {
  return clipTextTower('rn50_textual', seed, RN50_EMBED_DIM);
}
