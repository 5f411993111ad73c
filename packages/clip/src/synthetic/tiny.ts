// The `tiny` synthetic CLIP: small, fast, and meaningful for colours, so end-to-end tests can assert relevance.
// Image tower: mean RGB of the picture → soft assignment to colour prototypes (first K dims) + a little texture noise.
// Text tower: colour words map to their prototype's dimension, other tokens to small random vectors; summed over tokens.

import { attr, Graph } from '../onnx/graph.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { Rng } from './random.ts';

export const TINY_IMAGE_SIZE = 64;
export const TINY_EMBED_DIM = 64;
const VOCAB_SIZE = 49408;
/** Softmax temperature on squared RGB distance: small enough that the nearest prototype takes nearly all the weight. */
const SIGMA2 = 0.02;
const IMAGE_NOISE = 0.02;
const TOKEN_NOISE = 0.02;

/** Prototype colours in RGB 0..1. */
export const TINY_COLOURS: ReadonlyArray<{ name: string; rgb: [number, number, number]; words: string[] }> = [
  { name: 'red', rgb: [0.9, 0.1, 0.1], words: ['red', 'reds', 'crimson', 'scarlet'] },
  { name: 'orange', rgb: [1.0, 0.55, 0.05], words: ['orange', 'oranges', 'amber'] },
  { name: 'yellow', rgb: [0.95, 0.9, 0.1], words: ['yellow', 'gold', 'golden'] },
  { name: 'green', rgb: [0.1, 0.7, 0.15], words: ['green', 'greens', 'lime'] },
  { name: 'cyan', rgb: [0.05, 0.85, 0.9], words: ['cyan', 'turquoise', 'teal', 'aqua'] },
  { name: 'blue', rgb: [0.1, 0.2, 0.9], words: ['blue', 'blues', 'navy', 'azure'] },
  { name: 'purple', rgb: [0.5, 0.1, 0.65], words: ['purple', 'violet', 'magenta', 'lavender'] },
  { name: 'pink', rgb: [1.0, 0.6, 0.75], words: ['pink'] },
  { name: 'brown', rgb: [0.45, 0.27, 0.1], words: ['brown', 'tan'] },
  { name: 'black', rgb: [0.05, 0.05, 0.05], words: ['black'] },
  { name: 'white', rgb: [0.95, 0.95, 0.95], words: ['white'] },
  { name: 'gray', rgb: [0.5, 0.5, 0.5], words: ['gray', 'grey', 'silver'] },
];

/**
 * The token that stands for each colour word: the word's only BPE piece, or its first piece when the vocabulary splits
 * it ('cyan' → 'cy' + 'an'; mapping 'an' would colour every "an").
 */
export function colourTokenIds(tokenizer: Tokenizer): Map<number, number> {
  const ids = new Map<number, number>();
  TINY_COLOURS.forEach((c, k) => {
    for (const word of c.words) {
      const pieces = tokenizer.encode(word);
      if (pieces.length > 0 && !ids.has(pieces[0])) ids.set(pieces[0], k);
    }
  });
  return ids;
}

export function tinyVisual(seed: number, mean: number[], std: number[]): Graph {
  const rng = new Rng(seed ^ 0x1a2b3c);
  const K = TINY_COLOURS.length;
  const S = TINY_IMAGE_SIZE;
  const grid = 4;
  const g = new Graph('tiny_visual');
  const image = g.input('image', 'float32', ['batch', 3, S, S]);

  // Mean colour of the picture in 0..1 RGB: pool first, then undo the normalisation (both are linear).
  const pooled = g.node('ReduceMean', [image], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
  const rgb = g.node('Add', [g.node('Mul', [pooled, g.constFloat(std)]), g.constFloat(mean)]);

  // Squared distance to each prototype, ||c||² − 2c·p + ||p||², then a sharp softmax over prototypes.
  const protoT = new Float32Array(3 * K);
  const protoNorm: number[] = [];
  TINY_COLOURS.forEach((c, k) => {
    for (let ch = 0; ch < 3; ch++) protoT[ch * K + k] = c.rgb[ch];
    protoNorm.push(c.rgb.reduce((a, v) => a + v * v, 0));
  });
  const cp = g.node('MatMul', [rgb, g.weight('prototypes_t', [3, K], protoT)]);
  const cc = g.node('ReduceSumSquare', [rgb], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const d2 = g.node('Add', [g.node('Sub', [cc, g.node('Mul', [cp, g.constFloat([2])])]), g.constFloat(protoNorm)]);
  const colour = g.node('Softmax', [g.node('Mul', [d2, g.constFloat([-1 / SIGMA2])])], { axis: attr.int(1) });

  // A little deterministic texture signal from a coarse grid, so different pictures of one colour are not identical.
  const cells = g.node('AveragePool', [image], {
    kernel_shape: attr.ints([S / grid, S / grid]),
    strides: attr.ints([S / grid, S / grid]),
  });
  const flat = g.node('Flatten', [cells], { axis: attr.int(1) });
  const features = 3 * grid * grid;
  const w = g.weight('texture_proj', [features, TINY_EMBED_DIM - K], rng.fill(features * (TINY_EMBED_DIM - K), 0.5));
  const texture = g.node('Mul', [g.node('Tanh', [g.node('MatMul', [flat, w])]), g.constFloat([IMAGE_NOISE])]);

  g.node('Concat', [colour, texture], { axis: attr.int(1) }, 'embedding');
  g.output('embedding', 'float32', ['batch', TINY_EMBED_DIM]);
  return g;
}

export function tinyTextual(seed: number, tokenizer: Tokenizer): Graph {
  const rng = new Rng(seed ^ 0x7e57);
  const K = TINY_COLOURS.length;
  const D = TINY_EMBED_DIM;
  const table = new Float32Array(VOCAB_SIZE * D);
  const noise = rng.fill(VOCAB_SIZE * (D - K), TOKEN_NOISE);
  for (let t = 0; t < VOCAB_SIZE; t++) table.set(noise.subarray(t * (D - K), (t + 1) * (D - K)), t * D + K);
  // Id 0 is the padding id, so its row is zero: padding adds nothing and trimming it changes nothing.
  table.fill(0, 0, D);
  for (const [id, k] of colourTokenIds(tokenizer)) {
    table.fill(0, id * D, (id + 1) * D);
    table[id * D + k] = 1;
  }
  const g = new Graph('tiny_textual');
  const text = g.input('text', 'int64', ['batch', 'tokens']);
  const vectors = g.node('Gather', [g.weight('token_embedding', [VOCAB_SIZE, D], table), text], { axis: attr.int(0) });
  g.node('ReduceSum', [vectors, g.constInt([1])], { keepdims: attr.int(0) }, 'embedding');
  g.output('embedding', 'float32', ['batch', D]);
  return g;
}
