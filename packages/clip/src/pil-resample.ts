// Pillow's Image.resize on 8-bit pixels, reproduced bit for bit: separable two-pass convolution (horizontal first),
// antialiased (the kernel widens by the downscale factor), 22-bit fixed-point weights, uint8 rounding between passes.
// Only a window of the resized image is computed — the centre crop — which gives the same pixels as resizing the
// whole picture and cropping afterwards, because every output pixel depends only on its own coefficients.

import { readFileSync } from 'node:fs';

export type ResampleFilter = 'bicubic' | 'bilinear' | 'nearest';

/** Interleaved 8-bit pixels, row-major. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** A window of the resized image: columns [left, left + width), rows [top, top + height). */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

const PRECISION_BITS = 32 - 8 - 2;
const FIXED_ONE = 1 << PRECISION_BITS;

function bicubic(x0: number): number {
  const a = -0.5;
  const x = x0 < 0 ? -x0 : x0;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function bilinear(x0: number): number {
  const x = x0 < 0 ? -x0 : x0;
  return x < 1 ? 1 - x : 0;
}

const FILTERS = { bicubic: { fn: bicubic, support: 2 }, bilinear: { fn: bilinear, support: 1 } } as const;

interface Coefficients {
  /** First source index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** Fixed-point weights, `ksize` per output index. */
  weights: Int32Array;
  ksize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc, for output indices [from, from + n) of an inSize → outSize resize. */
function coefficients(
  inSize: number,
  outSize: number,
  from: number,
  n: number,
  filter: 'bicubic' | 'bilinear',
): Coefficients {
  const { fn, support: baseSupport } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let i = 0; i < n; i++) {
    const center = (from + i + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[i * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * FIXED_ONE : 0.5 + w * FIXED_ONE);
    }
    start[i] = xmin;
    count[i] = xmax;
  }
  return { start, count, weights, ksize };
}

/** Photos come in a few sizes, so the same weights are asked for again and again: the recent ones are kept. */
const recentCoefficients = new Map<string, Coefficients>();

function cachedCoefficients(...args: Parameters<typeof coefficients>): Coefficients {
  const key = args.join(',');
  let c = recentCoefficients.get(key);
  if (!c) {
    c = coefficients(...args);
    if (recentCoefficients.size >= 64) recentCoefficients.delete(recentCoefficients.keys().next().value!);
    recentCoefficients.set(key, c);
  }
  return c;
}

/**
 * `image.resize((outWidth, outHeight), filter)` in Pillow, then `.crop(window)`, for 8-bit images with any channel
 * count. Pillow treats RGBA by premultiplying first (see premultiplyAlpha); that is the caller's step.
 * The passes run in WebAssembly SIMD (pil-resample.wat); this side works out the weights and which rows feed them.
 */
export function resizeWindow(
  src: Raster,
  outWidth: number,
  outHeight: number,
  win: Window,
  filter: ResampleFilter,
): Raster {
  if (filter === 'nearest') return nearestWindow(src, outWidth, outHeight, win);
  const { data, width, height, channels: ch } = src;
  const horiz = outWidth !== width ? cachedCoefficients(width, outWidth, win.left, win.width, filter) : undefined;
  const vert = outHeight !== height ? cachedCoefficients(height, outHeight, win.top, win.height, filter) : undefined;

  // Which source rows feed the window: all the vertical taps, or just the window's own rows.
  const rowFirst = vert ? vert.start[0]! : win.top;
  const rowEnd = vert ? vert.start[win.height - 1]! + vert.count[win.height - 1]! : win.top + win.height;
  const rows = rowEnd - rowFirst;
  const tempStride = win.width * ch;
  const srcStride = width * ch;

  const mem = new KernelMemory();
  const srcAt = horiz ? mem.take(rows * srcStride) : 0;
  const h = horiz ? mem.coefficients(horiz, 0) : undefined;
  const tempAt = mem.take(rows * tempStride);
  const v = vert ? mem.coefficients(vert, rowFirst) : undefined;
  const outAt = vert ? mem.take(win.height * tempStride) : tempAt;
  const { kernels, bytes } = mem.instantiate();

  if (horiz && h) {
    bytes.set(data.subarray(rowFirst * srcStride, rowEnd * srcStride), srcAt);
    kernels.horizontal(srcAt, srcStride, rows, ch, win.width, h.start, h.count, h.weights, horiz.ksize, tempAt);
  } else {
    for (let y = rowFirst; y < rowEnd; y++) {
      const from = (y * width + win.left) * ch;
      bytes.set(data.subarray(from, from + tempStride), tempAt + (y - rowFirst) * tempStride);
    }
  }
  if (vert && v) {
    kernels.vertical(tempAt, tempStride, win.height, v.start, v.count, v.weights, vert.ksize, outAt);
  }
  return {
    data: bytes.slice(outAt, outAt + win.height * tempStride),
    width: win.width,
    height: win.height,
    channels: ch,
  };
}

interface Kernels {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  horizontal(
    src: number,
    srcStride: number,
    rows: number,
    ch: number,
    n: number,
    start: number,
    count: number,
    weights: number,
    ksize: number,
    out: number,
  ): void;
  vertical(
    src: number,
    stride: number,
    rows: number,
    start: number,
    count: number,
    weights: number,
    ksize: number,
    out: number,
  ): void;
}

/** Node's WebAssembly global (the type definitions this project uses do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } };
  }
).WebAssembly;

const module = new wasm.Module(readFileSync(new URL('./pil-resample.wasm', import.meta.url)));
const newKernels = () => new wasm.Instance(module).exports as Kernels;
/** Reused for every picture of ordinary size; its memory only ever grows, so only up to KEEP_BYTES. */
const shared = newKernels();
/** A rare huge picture gets kernels of its own, whose memory is freed with them. */
const KEEP_BYTES = 64 * 1024 * 1024;

/** The kernels read and write up to this many bytes past a buffer (a vector's width). */
const SLACK = 16;

/** Lays buffers out one after another in the kernels' memory (16-byte aligned, with slack), growing it as needed. */
class KernelMemory {
  private end = 0;
  private readonly pending: Array<{ at: number; values: Int32Array }> = [];

  take(size: number): number {
    const at = this.end;
    this.end += Math.ceil((size + SLACK) / 16) * 16;
    return at;
  }

  /** Reserves a coefficient table; start indices are made relative to `firstIndex`. */
  coefficients(c: Coefficients, firstIndex: number) {
    const place = (values: Int32Array) => {
      const at = this.take(values.byteLength);
      this.pending.push({ at, values });
      return at;
    };
    return {
      start: place(firstIndex === 0 ? c.start : c.start.map((s) => s - firstIndex)),
      count: place(c.count),
      weights: place(c.weights),
    };
  }

  /** Kernels whose memory holds everything taken, with the coefficient tables written in, and that memory as bytes. */
  instantiate(): { kernels: Kernels; bytes: Uint8Array } {
    const kernels = this.end <= KEEP_BYTES ? shared : newKernels();
    const { memory } = kernels;
    const short = this.end - memory.buffer.byteLength;
    if (short > 0) memory.grow(Math.ceil(short / 65536));
    for (const { at, values } of this.pending) new Int32Array(memory.buffer, at, values.length).set(values);
    return { kernels, bytes: new Uint8Array(memory.buffer) };
  }
}

/** Pillow's nearest-neighbour resize (its affine fast path, with the same accumulated source coordinates). */
function nearestWindow(src: Raster, outWidth: number, outHeight: number, win: Window): Raster {
  const { data, width, height, channels: ch } = src;
  const xs = sourceIndices(width, outWidth, win.left, win.width);
  const ys = sourceIndices(height, outHeight, win.top, win.height);
  const out = new Uint8Array(win.width * win.height * ch);
  let o = 0;
  for (let j = 0; j < win.height; j++) {
    const rowBase = ys[j]! * width;
    for (let i = 0; i < win.width; i++) {
      const p = (rowBase + xs[i]!) * ch;
      for (let c = 0; c < ch; c++) out[o++] = data[p + c]!;
    }
  }
  return { data: out, width: win.width, height: win.height, channels: ch };
}

function sourceIndices(inSize: number, outSize: number, from: number, n: number): Int32Array {
  const step = inSize / outSize;
  const indices = new Int32Array(n);
  let v = step * 0.5;
  for (let i = 0; i < from + n; i++) {
    if (i >= from) indices[i - from] = Math.min(Math.max(v < 0 ? -1 : Math.trunc(v), 0), inSize - 1);
    v += step;
  }
  return indices;
}

function mulDiv255(a: number, b: number): number {
  const tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

/** Pillow's RGBA → RGBa (and LA → La): colour channels multiplied by alpha, in place. Alpha is the last channel. */
export function premultiplyAlpha(raster: Raster): void {
  const { data, channels: ch } = raster;
  const colour = ch - 1;
  for (let p = 0; p < data.length; p += ch) {
    const alpha = data[p + colour]!;
    if (alpha === 255) continue;
    for (let c = 0; c < colour; c++) data[p + c] = mulDiv255(data[p + c]!, alpha);
  }
}

/** Pillow's RGBa → RGBA: undo premultiplication, in place (alpha 0 and 255 leave the colour as it is). */
export function unpremultiplyAlpha(raster: Raster): void {
  const { data, channels: ch } = raster;
  const colour = ch - 1;
  for (let p = 0; p < data.length; p += ch) {
    const alpha = data[p + colour]!;
    if (alpha === 255 || alpha === 0) continue;
    for (let c = 0; c < colour; c++) data[p + c] = Math.min(Math.trunc((255 * data[p + c]!) / alpha), 255);
  }
}
