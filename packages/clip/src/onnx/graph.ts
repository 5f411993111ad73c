// A tiny ONNX graph builder and serialiser (ModelProto, opset 17, IR version 8), so the project can make its own test
// and benchmark models in TypeScript without Python. Field numbers follow onnx/onnx.proto3.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { ProtoWriter } from './protobuf.ts';

export const OPSET = 17;
export const IR_VERSION = 8;

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';
const DATA_TYPE: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** A dimension: a fixed size, or a name for a dynamic axis ('batch', 'tokens'). */
export type Dim = number | string;

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

interface ValueInfo {
  name: string;
  type: ElemType;
  shape: Dim[];
}
interface Node {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  name: string;
}
interface Initializer {
  name: string;
  dims: number[];
  type: ElemType;
  data: Float32Array | BigInt64Array | Int32Array;
}

export class Graph {
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, type: ElemType, shape: Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: ElemType, shape: Dim[]): void {
    this.outputs.push({ name, type, shape });
  }

  /** A weight or constant tensor; returns its name. */
  weight(name: string, dims: number[], data: Float32Array | BigInt64Array | Int32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`weight ${name}: dims ${dims} hold ${size} values, got ${data.length}`);
    const type: ElemType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'int64';
    this.initializers.push({ name, dims, type, data });
    return name;
  }

  constFloat(values: number[], dims: number[] = [values.length]): string {
    return this.weight(this.fresh('const_f'), dims, Float32Array.from(values));
  }

  constInt(values: number[], dims: number[] = [values.length]): string {
    return this.weight(this.fresh('const_i'), dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** Adds one node; returns its output names (one per `outputs`, named after the op unless given). */
  nodeN(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs: number | string[] = 1,
  ): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    this.nodes.push({ opType, inputs, outputs: outs, attrs, name: this.fresh(`n_${opType}`) });
    return outs;
  }

  /** Adds a single-output node and returns its output name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.nodeN(opType, inputs, attrs, output ? [output] : 1)[0];
  }
}

function encodeTensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, DATA_TYPE[t.type]);
  w.string(8, t.name);
  // raw_data is little-endian per the ONNX spec; typed arrays are little-endian on every platform Node supports here.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, DATA_TYPE[v.type]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function encodeAttr(name: string, a: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float':
      return w.float(2, a.value).int(20, 1);
    case 'int':
      return w.int(3, a.value).int(20, 2);
    case 'string':
      return w.string(4, a.value).int(20, 3);
    case 'floats':
      return w.packedFloats(7, a.value).int(20, 6);
    case 'ints':
      return w.packedInts(8, a.value).int(20, 7);
  }
}

function encodeNode(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs)) w.message(5, encodeAttr(k, v));
  return w;
}

/** Encodes a ModelProto for the graph; returns the chunks that, concatenated, are the .onnx file. */
export function encodeModel(g: Graph, producer = 'image-search'): Uint8Array[] {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, encodeNode(n));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, encodeTensor(t));
  for (const i of g.inputs) graph.message(11, encodeValueInfo(i));
  for (const o of g.outputs) graph.message(12, encodeValueInfo(o));
  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, producer);
  model.string(3, '0.1.0');
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').int(2, OPSET));
  return model.finish();
}

/** Writes the model to `file` chunk by chunk (no single buffer for a 400 MB model). */
export async function writeModel(g: Graph, file: string): Promise<void> {
  const out = createWriteStream(file);
  for (const chunk of encodeModel(g)) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
