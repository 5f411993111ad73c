// What a download is refused as, when its bytes are not a picture (the pictures themselves: picture-store's tests).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../src/sniff.ts';

describe('sniffImage', () => {
  it('takes a real picture as the image type its bytes say', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    expect(await sniffImage(png)).toEqual({ kind: 'image', format: 'png', ext: '.png', mime: 'image/png' });
  });

  it('rejects HTML, SVG, text, empty and unknown bodies with the reason', async () => {
    const reasons = async (s: string | Buffer) => {
      const r = await sniffImage(Buffer.isBuffer(s) ? s : Buffer.from(s));
      return r.kind === 'rejected' ? r.reason : r.format;
    };
    expect(await reasons('\uFEFF  <!DOCTYPE html><html></html>')).toBe('html');
    expect(await reasons('<HTML><body>Access denied</body></HTML>')).toBe('html');
    expect(await reasons('<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"></svg>')).toBe(
      'svg',
    );
    expect(await reasons('<svg width="10"/>')).toBe('svg');
    expect(await reasons('{"error":"not found"}')).toBe('text');
    expect(await reasons('Ceci n’est pas une image.')).toBe('text');
    expect(await reasons('')).toBe('empty');
    expect(await reasons(Buffer.from([0x00, 0x00, 0x01, 0x00, 0x01, 0x00]))).toBe('unknown_format');
    expect(await reasons(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3', 'latin1'))).toBe('unknown_format');
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic'),
      Buffer.alloc(4),
      Buffer.from('mif1heic'),
    ]);
    expect(await reasons(heic)).toBe('unknown_format');
  });
});
