// The `vit-b-32` and `vit-b-16` synthetic CLIPs: random weights with the compute shape of OpenCLIP ViT-B/32 and
// ViT-B/16, for benchmarks. Image: 224 px cut into 32 (or 16) px patches, a class token, 12 pre-norm blocks of width
// 768 with 12 heads, the class token's layer norm projected to 512. Text: the CLIP text tower, projected to 512.
import { attr, Graph } from '../onnx/graph.ts';
import { layerNorm, residualBlock, type TransformerShape, Weights } from './layers.ts';
import { clipTextTower } from './text-tower.ts';

export const VIT_IMAGE_SIZE = 224;
export const VIT_EMBED_DIM = 512;
const SHAPE: TransformerShape = { width: 768, heads: 12, layers: 12 };

export function vitVisual(seed: number, patch: 32 | 16): Graph {
  const { width } = SHAPE;
  const g = new Graph(`vit_b_${patch}_visual`);
  const w = new Weights(g, seed ^ 0x5eed1);
  const image = g.input('image', 'float32', ['batch', 3, VIT_IMAGE_SIZE, VIT_IMAGE_SIZE]);
  const tokens = (VIT_IMAGE_SIZE / patch) ** 2 + 1;
  const patches = g.node(
    'Conv',
    [image, w.random('conv1.weight', [width, 3, patch, patch], (3 * patch * patch) ** -0.5)],
    { kernel_shape: attr.ints([patch, patch]), strides: attr.ints([patch, patch]) },
  );
  const seq = g.node('Transpose', [g.node('Reshape', [patches, g.constInt([0, width, -1])])], {
    perm: attr.ints([0, 2, 1]),
  });
  // The class token, one per picture: a zeroed copy of the first patch's token plus the learned embedding.
  const first = g.node('Slice', [seq, g.constInt([0]), g.constInt([1]), g.constInt([1])]);
  const cls = g.node('Add', [
    g.node('Mul', [first, g.constFloat([0])]),
    w.random('class_embedding', [width], width ** -0.5),
  ]);
  let x = g.node('Add', [
    g.node('Concat', [cls, seq], { axis: attr.int(1) }),
    w.random('positional_embedding', [tokens, width], width ** -0.5),
  ]);
  x = layerNorm(w, 'ln_pre', x, width);
  for (let i = 0; i < SHAPE.layers; i++) x = residualBlock(w, `transformer.resblocks.${i}`, x, SHAPE);
  const pooled = g.node('Reshape', [
    layerNorm(w, 'ln_post', g.node('Slice', [x, g.constInt([0]), g.constInt([1]), g.constInt([1])]), width),
    g.constInt([0, width]),
  ]);
  g.node('MatMul', [pooled, w.random('proj', [width, VIT_EMBED_DIM], width ** -0.5)], {}, 'embedding');
  g.output('embedding', 'float32', ['batch', VIT_EMBED_DIM]);
  return g;
}

export function vitTextual(seed: number, patch: 32 | 16): Graph {
  return clipTextTower(`vit_b_${patch}_textual`, seed, VIT_EMBED_DIM);
}
