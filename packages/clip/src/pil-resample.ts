// Pillow's Image.resize on 8-bit pixels, reproduced bit for bit: separable two-pass convolution (horizontal first),
// antialiased (the kernel widens by the downscale factor), 22-bit fixed-point weights, uint8 rounding between passes.
// Only a window of the resized image is computed — the centre crop — which gives the same pixels as resizing the
// whole picture and cropping afterwards, because every output pixel depends only on its own coefficients.

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
const ROUNDING = 1 << (PRECISION_BITS - 1);
const FIXED_ONE = 1 << PRECISION_BITS;
const CLIP_HIGH = FIXED_ONE * 256;

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

function clip8(v: number): number {
  if (v >= CLIP_HIGH) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/**
 * `image.resize((outWidth, outHeight), filter)` in Pillow, then `.crop(window)`, for 8-bit images with any channel
 * count. Pillow treats RGBA by premultiplying first (see premultiplyAlpha); that is the caller's step.
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
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;

  // Which source rows feed the window, and (when resizing vertically) how.
  const vert = needVertical ? coefficients(height, outHeight, win.top, win.height, filter) : undefined;
  const rowFirst = vert ? vert.start[0]! : win.top;
  const rowEnd = vert ? vert.start[win.height - 1]! + vert.count[win.height - 1]! : win.top + win.height;

  // Horizontal pass over just those rows and the window's columns.
  const tempStride = win.width * ch;
  const temp = new Uint8Array((rowEnd - rowFirst) * tempStride);
  if (needHorizontal) {
    horizontalPass(src, coefficients(width, outWidth, win.left, win.width, filter), rowFirst, rowEnd, temp);
  } else {
    for (let y = rowFirst; y < rowEnd; y++) {
      const from = (y * width + win.left) * ch;
      temp.set(data.subarray(from, from + tempStride), (y - rowFirst) * tempStride);
    }
  }
  if (!vert) return { data: temp, width: win.width, height: win.height, channels: ch };

  // Vertical pass: each output row is a weighted sum of a few temp rows.
  const out = new Uint8Array(win.height * tempStride);
  const { start, count, weights, ksize } = vert;
  const offsets = new Int32Array(ksize);
  const rowWeights = new Int32Array(ksize);
  for (let j = 0; j < win.height; j++) {
    const ymin = start[j]! - rowFirst;
    const taps = count[j]!;
    for (let t = 0; t < taps; t++) {
      offsets[t] = (ymin + t) * tempStride;
      rowWeights[t] = weights[j * ksize + t]!;
    }
    let o = j * tempStride;
    if (ch === 3) {
      for (let x = 0; x < tempStride; x += 3) {
        let r = ROUNDING;
        let g = ROUNDING;
        let b = ROUNDING;
        for (let t = 0; t < taps; t++) {
          const q = offsets[t]! + x;
          const w = rowWeights[t]!;
          r += temp[q]! * w;
          g += temp[q + 1]! * w;
          b += temp[q + 2]! * w;
        }
        out[o++] = clip8(r);
        out[o++] = clip8(g);
        out[o++] = clip8(b);
      }
    } else {
      for (let x = 0; x < tempStride; x++) {
        let v = ROUNDING;
        for (let t = 0; t < taps; t++) v += temp[offsets[t]! + x]! * rowWeights[t]!;
        out[o++] = clip8(v);
      }
    }
  }
  return { data: out, width: win.width, height: win.height, channels: ch };
}

/** Rows [rowFirst, rowEnd) of the source, resampled horizontally into `temp` (one row per source row). */
function horizontalPass(src: Raster, coeffs: Coefficients, rowFirst: number, rowEnd: number, temp: Uint8Array): void {
  const { data, width, channels: ch } = src;
  const { start, count, weights, ksize } = coeffs;
  const n = start.length;
  const tempStride = n * ch;
  for (let y = rowFirst; y < rowEnd; y++) {
    const rowBase = y * width * ch;
    let o = (y - rowFirst) * tempStride;
    for (let i = 0; i < n; i++) {
      const taps = count[i]!;
      const wBase = i * ksize;
      let p = rowBase + start[i]! * ch;
      // The common channel counts get their own loops: a plain local accumulator per channel is several times faster.
      if (ch === 3) {
        let r = ROUNDING;
        let g = ROUNDING;
        let b = ROUNDING;
        for (let t = 0; t < taps; t++, p += 3) {
          const w = weights[wBase + t]!;
          r += data[p]! * w;
          g += data[p + 1]! * w;
          b += data[p + 2]! * w;
        }
        temp[o++] = clip8(r);
        temp[o++] = clip8(g);
        temp[o++] = clip8(b);
      } else if (ch === 1) {
        let v = ROUNDING;
        for (let t = 0; t < taps; t++, p++) v += data[p]! * weights[wBase + t]!;
        temp[o++] = clip8(v);
      } else {
        for (let c = 0; c < ch; c++) {
          let v = ROUNDING;
          for (let t = 0, q = p + c; t < taps; t++, q += ch) v += data[q]! * weights[wBase + t]!;
          temp[o++] = clip8(v);
        }
      }
    }
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
