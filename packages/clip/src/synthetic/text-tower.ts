// The text tower of OpenCLIP's RN50 and ViT-B models (random weights, for benchmarks): a 12-layer width-512 causal
// transformer, positional embedding and mask sliced to the input length L, the end token picked by argmax, projected
// to the model's embedding size.
import { attr, Graph } from '../onnx/graph.ts';
import { layerNorm, residualBlock, type TransformerShape, Weights } from './layers.ts';

const CONTEXT_LENGTH = 77;
const VOCAB_SIZE = 49408;
const SHAPE: TransformerShape = { width: 512, heads: 8, layers: 12 };

export function clipTextTower(name: string, seed: number, embedDim: number): Graph {
  const { width } = SHAPE;
  const g = new Graph(name);
  const w = new Weights(g, seed ^ 0x7e47);
  const text = g.input('text', 'int64', ['batch', 'tokens']);
  const length = g.node('Slice', [g.node('Shape', [text]), g.constInt([1]), g.constInt([2])]);
  let x = g.node('Gather', [w.random('token_embedding', [VOCAB_SIZE, width], 0.02), text], { axis: attr.int(0) });
  const positional = w.random('positional_embedding', [CONTEXT_LENGTH, width], 0.01);
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
  for (let i = 0; i < SHAPE.layers; i++) x = residualBlock(w, `transformer.resblocks.${i}`, x, SHAPE, mask);
  x = layerNorm(w, 'ln_final', x, width);
  // The end token has the highest id, so argmax finds it, as OpenCLIP's encode_text does.
  const eot = g.node('ArgMax', [text], { axis: attr.int(1), keepdims: attr.int(1) });
  const features = g.node('GatherND', [x, eot], { batch_dims: attr.int(1) });
  g.node('MatMul', [features, w.random('text_projection', [width, embedDim], width ** -0.5)], {}, 'embedding');
  g.output('embedding', 'float32', ['batch', embedDim]);
  return g;
}
