// The one image sniffer every service uses: the accepted formats from their bytes, everything else refused.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { detectImage, mimeOf } from '../src/index.ts';

const picture = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });
const pad = (b: number[] | string) => Buffer.concat([Buffer.from(b as never), Buffer.alloc(16)]);
const ftyp = (major: string, compatible: string) =>
  Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from(`ftyp${major}`), Buffer.alloc(4), Buffer.from(compatible)]);

describe('detectImage', () => {
  it('recognises JPEG, PNG, WebP, GIF, AVIF and TIFF from the first bytes of real files', async () => {
    const cases: Array<[Buffer, string, string, string]> = [
      [await picture().jpeg().toBuffer(), 'jpeg', '.jpg', 'image/jpeg'],
      [await picture().png().toBuffer(), 'png', '.png', 'image/png'],
      [await picture().webp().toBuffer(), 'webp', '.webp', 'image/webp'],
      [await picture().gif().toBuffer(), 'gif', '.gif', 'image/gif'],
      [await picture().avif().toBuffer(), 'avif', '.avif', 'image/avif'],
      [await picture().tiff().toBuffer(), 'tiff', '.tiff', 'image/tiff'],
    ];
    for (const [bytes, format, ext, mime] of cases) {
      expect(await detectImage(bytes.subarray(0, 512))).toEqual({ format, ext, mime });
    }
  });

  it('knows formats by their magic bytes alone, big-endian TIFF and an AVIF brand listed as compatible included', async () => {
    expect(await detectImage(pad([0xff, 0xd8, 0xff, 0xe0]))).toMatchObject({ format: 'jpeg' });
    expect(await detectImage(pad('GIF89a'))).toMatchObject({ format: 'gif' });
    expect(await detectImage(pad('RIFF\0\0\0\0WEBPVP8 '))).toMatchObject({ format: 'webp' });
    expect(await detectImage(pad('\0\0\0\x1cftypavif'))).toMatchObject({ format: 'avif' });
    expect(await detectImage(pad('II*\0'))).toMatchObject({ format: 'tiff' });
    expect(await detectImage(pad([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toMatchObject({ format: 'tiff' });
    expect(await detectImage(ftyp('mif1', 'mif1avif'))).toMatchObject({ format: 'avif' });
  });

  it('refuses everything else: HEIC, SVG, PDF, WAV, a cut-off JPEG, nothing', async () => {
    expect(await detectImage(ftyp('heic', 'mif1heic'))).toBeUndefined();
    expect(await detectImage(pad('<svg xmlns="http://www.w3.org/2000/svg">'))).toBeUndefined();
    expect(await detectImage(pad('%PDF-1.7'))).toBeUndefined();
    expect(await detectImage(pad('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
    expect(await detectImage(Buffer.from([0xff, 0xd8]))).toBeUndefined();
    expect(await detectImage(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('mimeOf', () => {
  it('names the MIME type of a decoder format', () => {
    expect(mimeOf('jpeg')).toBe('image/jpeg');
    expect(mimeOf('JPG')).toBe('image/jpeg');
    expect(mimeOf('tiff')).toBe('image/tiff');
    expect(mimeOf('heif')).toBe('image/heif');
    expect(mimeOf('svg')).toBe('image/svg+xml');
  });
});
