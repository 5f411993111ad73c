import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../src/sniff.ts';

const picture = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });

describe('sniffImage', () => {
  it('recognises JPEG, PNG, WebP, GIF, AVIF and TIFF from real files', async () => {
    const cases: Array<[Buffer, string, string, string]> = [
      [await picture().jpeg().toBuffer(), 'jpeg', '.jpg', 'image/jpeg'],
      [await picture().png().toBuffer(), 'png', '.png', 'image/png'],
      [await picture().webp().toBuffer(), 'webp', '.webp', 'image/webp'],
      [await picture().gif().toBuffer(), 'gif', '.gif', 'image/gif'],
      [await picture().avif().toBuffer(), 'avif', '.avif', 'image/avif'],
      [await picture().tiff().toBuffer(), 'tiff', '.tiff', 'image/tiff'],
    ];
    for (const [bytes, format, ext, mime] of cases) {
      expect(sniffImage(bytes.subarray(0, 512))).toEqual({ kind: 'image', format, ext, mime });
    }
  });

  it('recognises big-endian TIFF and an AVIF brand listed only as compatible', () => {
    expect(sniffImage(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toMatchObject({ format: 'tiff' });
    const ftyp = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypmif1'),
      Buffer.from([0, 0, 0, 0]),
      Buffer.from('mif1avif'),
    ]);
    expect(sniffImage(ftyp)).toMatchObject({ format: 'avif' });
  });

  it('rejects HEIC (an ISO-BMFF file without an AVIF brand)', () => {
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic'),
      Buffer.alloc(4),
      Buffer.from('mif1heic'),
    ]);
    expect(sniffImage(heic)).toMatchObject({ kind: 'rejected', reason: 'unknown_format' });
  });

  it('rejects HTML, SVG, text, empty and unknown bodies with the reason', () => {
    const reasons = (s: string | Buffer) => {
      const r = sniffImage(Buffer.isBuffer(s) ? s : Buffer.from(s));
      return r.kind === 'rejected' ? r.reason : r.format;
    };
    expect(reasons('\uFEFF  <!DOCTYPE html><html></html>')).toBe('html');
    expect(reasons('<HTML><body>Access denied</body></HTML>')).toBe('html');
    expect(reasons('<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"></svg>')).toBe('svg');
    expect(reasons('<svg width="10"/>')).toBe('svg');
    expect(reasons('{"error":"not found"}')).toBe('text');
    expect(reasons('Ceci n’est pas une image.')).toBe('text');
    expect(reasons('')).toBe('empty');
    expect(reasons(Buffer.from([0x00, 0x00, 0x01, 0x00, 0x01, 0x00]))).toBe('unknown_format');
    expect(reasons(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3', 'latin1'))).toBe('unknown_format');
  });
});
