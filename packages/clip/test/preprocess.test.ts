// What real files contain: odd colour models, bit depths, animation, orientation, extreme sizes, and broken files.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ModelManifest } from '../src/manifest.ts';
import { resizeWindow } from '../src/pil-resample.ts';
import {
  ImageDecodeError,
  type PreprocessOptions,
  preprocessImage,
  preprocessOptionsFor,
  resizedSize,
} from '../src/preprocess.ts';
import { fixture } from './fixtures.ts';

const S = 224;
const PLANE = S * S;
// mean 0, std 1: tensor values are the 8-bit levels / 255, easy to read in assertions.
const OPTS: PreprocessOptions = { imageSize: S, mean: [0, 0, 0], std: [1, 1, 1] };

/** RGB levels (0–255) of the tensor pixel at row y, column x. */
function rgbAt(tensor: Float32Array, y: number, x: number): [number, number, number] {
  const p = y * S + x;
  return [0, 1, 2].map((c) => Math.round(tensor[c * PLANE + p]! * 255)) as [number, number, number];
}

function solid(width: number, height: number, colour: string, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background: colour } });
}

async function decodeError(input: Buffer, opts: PreprocessOptions = OPTS): Promise<ImageDecodeError> {
  const err = await preprocessImage(input, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageDecodeError);
  return err as ImageDecodeError;
}

/** A PNG whose header claims width × height, with no pixel data: a decompression bomb as far as a decoder can tell. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.alloc(0)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('preprocessImage on the kinds of files people have', () => {
  it('returns a 3×S×S CHW tensor normalised by mean and std, with the size and format', async () => {
    const png = await solid(64, 48, '#ff8000').png().toBuffer();
    const out = await preprocessImage(png, { imageSize: S, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
    expect(out.tensor).toBeInstanceOf(Float32Array);
    expect(out.tensor).toHaveLength(3 * PLANE);
    expect(out.tensor[0]).toBeCloseTo((1 - 0.5) / 0.25, 5);
    expect(out.tensor[PLANE]).toBeCloseTo((128 / 255 - 0.5) / 0.5, 5);
    expect(out.tensor[2 * PLANE]).toBeCloseTo(-0.5, 5);
    expect(out).toMatchObject({ width: 64, height: 48, format: 'png' });
    expect(out.thumbnail).toBeUndefined();
  });

  it('reads grayscale as equal R, G and B', async () => {
    const gray = await solid(50, 40, '#404040').toColourspace('b-w').png().toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    expect(rgbAt((await preprocessImage(gray, OPTS)).tensor, 100, 100)).toEqual([64, 64, 64]);
  });

  it('reads 16-bit RGB and 16-bit grayscale PNGs by their high byte', async () => {
    const rgb16 = new Uint16Array(8 * 6 * 3);
    for (let i = 0; i < rgb16.length; i += 3) rgb16.set([0xff00, 0x4000, 0x0100], i);
    const png16 = await sharp(rgb16, { raw: { width: 8, height: 6, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    expect(rgbAt((await preprocessImage(png16, OPTS)).tensor, 50, 50)).toEqual([255, 64, 1]);
    const gray16 = await solid(30, 20, '#808080').toColourspace('grey16').png().toBuffer();
    expect(rgbAt((await preprocessImage(gray16, OPTS)).tensor, 50, 50)).toEqual([128, 128, 128]);
  });

  it('treats alpha as the reference does: premultiplied resize, then alpha dropped (transparent → black)', async () => {
    // Left half fully transparent white, right half opaque green.
    const rgba = Buffer.alloc(40 * 40 * 4);
    for (let p = 0; p < 40 * 40; p++) rgba.set(p % 40 < 20 ? [255, 255, 255, 0] : [0, 200, 0, 255], p * 4);
    const png = await sharp(rgba, { raw: { width: 40, height: 40, channels: 4 } })
      .png()
      .toBuffer();
    const { tensor } = await preprocessImage(png, OPTS);
    expect(rgbAt(tensor, 112, 10)).toEqual([0, 0, 0]);
    expect(rgbAt(tensor, 112, 210)).toEqual([0, 200, 0]);
    const grayAlpha = await solid(30, 20, '#c8c8c8', 4).toColourspace('b-w').png().toBuffer();
    expect(rgbAt((await preprocessImage(grayAlpha, OPTS)).tensor, 50, 50)).toEqual([200, 200, 200]);
  });

  it('converts CMYK naively after resizing, as Pillow does (no colour profile)', async () => {
    const cmyk = await solid(40, 30, '#c04020').toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const { data } = await sharp(cmyk)
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const [c, m, y, k] = [data[0]!, data[1]!, data[2]!, data[3]!];
    const naive = (v: number) => {
      const nk = 255 - k;
      const t = v * nk + 128;
      return Math.max(nk - (((t >> 8) + t) >> 8), 0);
    };
    expect(rgbAt((await preprocessImage(cmyk, OPTS)).tensor, 100, 100)).toEqual([naive(c), naive(m), naive(y)]);
  });

  it('reads palette PNGs', async () => {
    const png = await solid(60, 40, '#3366cc').png({ palette: true, colours: 4 }).toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    expect(rgbAt((await preprocessImage(png, OPTS)).tensor, 100, 100)).toEqual([0x33, 0x66, 0xcc]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const red = await solid(16, 12, '#ff0000').png().toBuffer();
    const blue = await solid(16, 12, '#0000ff').png().toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const out = await preprocessImage(gif, OPTS);
    expect(out).toMatchObject({ width: 16, height: 12, format: 'gif' });
    expect(rgbAt(out.tensor, 100, 100)).toEqual([255, 0, 0]);
  });

  it('applies EXIF orientation: the tensor, size and thumbnail are upright', async () => {
    // Stored 40×20, left half red and right half blue; orientation 6 shows it turned 90° clockwise (red on top).
    const stored = await solid(40, 20, '#0000ff')
      .composite([{ input: await solid(20, 20, '#ff0000').png().toBuffer(), left: 0, top: 0 }])
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await preprocessImage(stored, { ...OPTS, thumbnail: { maxSize: 32 } });
    expect([out.width, out.height]).toEqual([20, 40]);
    const top = rgbAt(out.tensor, 10, 112);
    const bottom = rgbAt(out.tensor, 214, 112);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
    const thumb = await sharp(out.thumbnail!).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 16, 32]);
  });

  it('upscales tiny pictures, even a single pixel or a 1-pixel-wide strip', async () => {
    const dot = await solid(1, 1, '#10a0f0').png().toBuffer();
    const out = await preprocessImage(dot, OPTS);
    expect([out.width, out.height]).toEqual([1, 1]);
    expect(rgbAt(out.tensor, 0, 0)).toEqual([0x10, 0xa0, 0xf0]);
    expect(rgbAt(out.tensor, 223, 223)).toEqual([0x10, 0xa0, 0xf0]);
    const strip = await solid(1, 5000, '#20c040').png().toBuffer();
    expect(rgbAt((await preprocessImage(strip, OPTS)).tensor, 112, 112)).toEqual([0x20, 0xc0, 0x40]);
  });

  it('resamples with bilinear filtering when the model asks for it', async () => {
    // A horizontal ramp: both filters keep a ramp a ramp, and differ only slightly.
    const ramp = Buffer.alloc(300 * 200 * 3);
    for (let p = 0; p < 300 * 200; p++) ramp.fill(Math.floor(((p % 300) * 255) / 299), p * 3, p * 3 + 3);
    const png = await sharp(ramp, { raw: { width: 300, height: 200, channels: 3 } })
      .png()
      .toBuffer();
    const bicubic = (await preprocessImage(png, OPTS)).tensor;
    const bilinear = (await preprocessImage(png, { ...OPTS, interpolation: 'bilinear' })).tensor;
    expect(rgbAt(bilinear, 100, 0)[0]).toBeLessThan(rgbAt(bilinear, 100, 223)[0]);
    for (const x of [0, 50, 112, 200, 223]) {
      expect(Math.abs(rgbAt(bilinear, 100, x)[0] - rgbAt(bicubic, 100, x)[0])).toBeLessThanOrEqual(2);
    }
  });

  it('reads TIFF, WebP and AVIF and names the format', async () => {
    const base = solid(30, 30, '#808080');
    for (const [format, buf] of [
      ['tiff', await base.clone().tiff().toBuffer()],
      ['webp', await base.clone().webp().toBuffer()],
      ['avif', await base.clone().avif().toBuffer()],
      ['jpeg', await base.clone().jpeg().toBuffer()],
    ] as const) {
      expect((await preprocessImage(buf, OPTS)).format).toBe(format);
    }
  });

  it('makes a WebP thumbnail no larger than maxSize on the long side, never upscaled', async () => {
    const big = await solid(900, 300, '#224488').jpeg().toBuffer();
    const thumb = await sharp(
      (await preprocessImage(big, { ...OPTS, thumbnail: { maxSize: 256 } })).thumbnail!,
    ).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 256, 85]);
    const small = await solid(40, 30, '#224488').png().toBuffer();
    const smallThumb = await sharp((await preprocessImage(small, { ...OPTS, thumbnail: { maxSize: 256 } })).thumbnail!);
    expect(await smallThumb.metadata().then((m) => [m.width, m.height])).toEqual([40, 30]);
  });

  it('keeps colours and transparency in the thumbnail, with no dark fringe where transparent meets opaque', async () => {
    const half = (colour: string, alpha = 1) =>
      sharp({ create: { width: 300, height: 300, channels: 4, background: { ...parse(colour), alpha } } })
        .png()
        .toBuffer();
    const parse = (hex: string) => ({
      r: Number.parseInt(hex.slice(1, 3), 16),
      g: Number.parseInt(hex.slice(3, 5), 16),
      b: Number.parseInt(hex.slice(5, 7), 16),
    });
    const picture = async (left: Buffer, right: Buffer) =>
      sharp({ create: { width: 600, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .composite([
          { input: left, left: 0, top: 0 },
          { input: right, left: 300, top: 0 },
        ])
        .png()
        .toBuffer();
    const thumbOf = async (input: Buffer) => {
      const out = await preprocessImage(input, { ...OPTS, thumbnail: { maxSize: 256 } });
      return sharp(out.thumbnail!).raw().toBuffer({ resolveWithObject: true });
    };
    const px = (t: { data: Buffer; info: sharp.OutputInfo }, x: number, y: number) =>
      Array.from(
        t.data.subarray((y * t.info.width + x) * t.info.channels, (y * t.info.width + x + 1) * t.info.channels),
      );

    const colours = await thumbOf(await picture(await half('#ff0000'), await half('#0000ff')));
    expect([colours.info.width, colours.info.height]).toEqual([256, 128]);
    for (const [got, want] of [
      [px(colours, 40, 64), [255, 0, 0]],
      [px(colours, 216, 64), [0, 0, 255]],
    ]) {
      for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - want[c]!)).toBeLessThan(24);
    }

    const edge = await thumbOf(await picture(await half('#000000', 0), await half('#00ff00')));
    expect(edge.info.channels).toBe(4);
    expect(px(edge, 40, 64)[3]).toBe(0);
    const nearEdge = px(edge, 128, 64); // half-covered by the transparent side: green, not darkened
    expect(nearEdge[3]).toBeGreaterThan(0);
    expect(nearEdge[1]).toBeGreaterThan(230);
  });

  it('accepts a file path as well as a buffer', async () => {
    const golden = fixture('clip/preprocess-golden/tiny.jpg');
    if (golden.missing) return console.warn(`path input check skipped: ${golden.missing}`);
    const fromPath = await preprocessImage(golden.path, OPTS);
    const fromBuffer = await preprocessImage(await sharp(golden.path).toBuffer(), OPTS);
    expect(fromPath.width).toBe(50);
    expect(fromBuffer.width).toBe(50);
  });
});

describe('preprocessImage on broken and hostile input', () => {
  it("rejects an empty file with code 'empty'", async () => {
    expect((await decodeError(Buffer.alloc(0))).code).toBe('empty');
  });

  it("rejects truncated and corrupt files with code 'corrupt'", async () => {
    const jpeg = await sharp({
      create: {
        width: 200,
        height: 150,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();
    const png = await sharp({
      create: {
        width: 200,
        height: 150,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    for (const broken of [
      jpeg.subarray(0, jpeg.length >> 1),
      jpeg.subarray(0, jpeg.length - 200),
      png.subarray(0, png.length >> 1),
      Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(4000, 7)]),
    ]) {
      const err = await decodeError(broken);
      expect(err.code).toBe('corrupt');
      expect(err.message).toMatch(/corrupt or truncated/);
    }
  });

  it("rejects SVG, HTML, text and PDF with code 'unsupported'", async () => {
    for (const text of [
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      '<!doctype html><html><body><img src="x.jpg"></body></html>',
      'just some text\n',
      '%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n',
    ]) {
      expect((await decodeError(Buffer.from(text))).code).toBe('unsupported');
    }
  });

  it("refuses decompression bombs with code 'too_large' before decoding, naming the size and the limit", async () => {
    const err = await decodeError(pngHeaderOnly(100_000, 100_000));
    expect(err.code).toBe('too_large');
    expect(err.message).toContain('100000×100000');
    expect(err.message).toContain('100,000,000');
    const modest = await solid(200, 100, '#000000').png().toBuffer();
    const limited = await decodeError(modest, { ...OPTS, maxPixels: 10_000 });
    expect(limited.code).toBe('too_large');
  });
});

describe('huge pictures', () => {
  it('are decoded shrunk, keeping their upright size and colours', async () => {
    const big = await solid(2400, 1900, '#0000ff')
      .composite([{ input: await solid(1200, 1900, '#ff0000').png().toBuffer(), left: 0, top: 0 }])
      .jpeg()
      .toBuffer();
    const out = await preprocessImage(big, OPTS);
    expect([out.width, out.height]).toEqual([2400, 1900]);
    expect(rgbAt(out.tensor, 112, 20)[0]).toBeGreaterThan(240);
    expect(rgbAt(out.tensor, 112, 200)[2]).toBeGreaterThan(240);
  });

  const coco = fixture('images/coco-mini/val2017');
  it.skipIf(coco.missing !== undefined)(
    'are shrunk by sharp first and stay within the reference tolerance of the exact resample',
    async () => {
      // A 4×4 mosaic of real photos, 2560×1920, stored on its side with EXIF orientation 8.
      const files = readdirSync(coco.path)
        .filter((f) => f.endsWith('.jpg'))
        .slice(0, 16);
      const tiles = await Promise.all(
        files.map((f) => sharp(path.join(coco.path, f)).resize(640, 480, { fit: 'cover' }).toBuffer()),
      );
      const upright = await sharp({ create: { width: 2560, height: 1920, channels: 3, background: '#000' } })
        .composite(tiles.map((input, i) => ({ input, left: (i % 4) * 640, top: Math.floor(i / 4) * 480 })))
        .jpeg({ quality: 92 })
        .toBuffer();
      const stored = await sharp(upright).rotate(90).jpeg({ quality: 92 }).withMetadata({ orientation: 8 }).toBuffer();

      const out = await preprocessImage(stored, OPTS);
      expect([out.width, out.height]).toEqual([2560, 1920]);

      // The exact path: full decode, Pillow-style resample, centre crop.
      const { data, info } = await sharp(stored, { autoOrient: true }).raw().toBuffer({ resolveWithObject: true });
      const { newWidth, newHeight } = resizedSize(info.width, info.height, S);
      const left = Math.round((newWidth - S) / 2);
      const exact = resizeWindow(
        { data, width: info.width, height: info.height, channels: 3 },
        newWidth,
        newHeight,
        { left, top: 0, width: S, height: S },
        'bicubic',
      );
      let max = 0;
      let sum = 0;
      for (let p = 0; p < PLANE; p++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(exact.data[p * 3 + c]! / 255 - out.tensor[c * PLANE + p]!);
          sum += d;
          max = Math.max(max, d);
        }
      }
      // Tolerances of golden.json for photos, on normalised values (÷ std ≈ 0.27 → ×3.7 here is generous).
      expect(sum / (3 * PLANE)).toBeLessThan(0.006 * 0.27);
      expect(max).toBeLessThan(0.2 * 0.27);
    },
  );
});

describe('resizeWindow', () => {
  it('resamples a picture too big for the shared kernel memory (here 90 MB) with the same bytes', () => {
    const width = 30_000;
    const height = 1000;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + Math.floor(i / 90_000) * 13) & 255;
    const win = { left: 100, top: 0, width: 500, height };
    const huge = resizeWindow({ data, width, height, channels: 3 }, 3000, height, win, 'bicubic');
    // Horizontal only, so every row is its own: the same rows resampled from a small picture must agree.
    for (const first of [0, height - 10]) {
      const rows = data.subarray(first * width * 3, (first + 10) * width * 3);
      const small = resizeWindow(
        { data: rows, width, height: 10, channels: 3 },
        3000,
        10,
        { ...win, height: 10 },
        'bicubic',
      );
      expect(Buffer.from(small.data).equals(Buffer.from(huge.data.subarray(first * 1500, (first + 10) * 1500)))).toBe(
        true,
      );
    }
  });
});

describe('preprocessOptionsFor', () => {
  it("takes the model's image size, mean, std and interpolation", () => {
    const manifest = {
      name: 'RN50',
      pretrained: 'openai',
      embedDim: 1024,
      imageSize: 288,
      mean: [0.1, 0.2, 0.3],
      std: [0.4, 0.5, 0.6],
      interpolation: 'bilinear',
      resizeMode: 'shortest',
      contextLength: 77,
      dynamicTextLength: true,
      files: { visual: 'visual.onnx', textual: 'textual.onnx', vocab: 'bpe_simple_vocab_16e6.txt.gz' },
      synthetic: false,
    } satisfies ModelManifest;
    expect(preprocessOptionsFor(manifest)).toEqual({
      imageSize: 288,
      mean: [0.1, 0.2, 0.3],
      std: [0.4, 0.5, 0.6],
      interpolation: 'bilinear',
    });
  });
});
