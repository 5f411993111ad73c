// Pure rules: picture sniffing, hit links.
import { describe, expect, it } from 'vitest';
import { toHit } from '../src/hits.ts';
import { sniffImageType } from '../src/image-upload.ts';

describe('sniffImageType', () => {
  const pad = (b: number[] | string) => Buffer.concat([Buffer.from(b as never), Buffer.alloc(16)]);
  it('knows raster formats by their magic bytes', () => {
    expect(sniffImageType(pad([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImageType(pad([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffImageType(pad('GIF89a'))).toBe('gif');
    expect(sniffImageType(pad('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffImageType(pad('\0\0\0\x1cftypavif'))).toBe('avif');
    expect(sniffImageType(pad('II*\0'))).toBe('tiff');
  });
  it('refuses everything else', () => {
    expect(sniffImageType(pad('<svg xmlns="http://www.w3.org/2000/svg">'))).toBeNull();
    expect(sniffImageType(pad('%PDF-1.7'))).toBeNull();
    expect(sniffImageType(pad('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(sniffImageType(Buffer.from([0xff, 0xd8]))).toBeNull();
  });
});

describe('toHit', () => {
  const doc = {
    path: 'sub/blue car.jpg',
    file_name: 'blue car.jpg',
    source_url: 'https://example.com/x',
    width: 4,
    height: 3,
    bytes: 10,
    content_type: 'image/jpeg',
    model: 'm',
    indexed_at: '2024-01-01T00:00:00Z',
    thumbnail: 'abc.webp',
  };
  it('links to this server with encoded relative paths', () => {
    expect(toHit({ id: 'abc', score: 0.9, doc }, '/data/images')).toEqual({
      id: 'abc',
      score: 0.9,
      url: '/images/sub/blue%20car.jpg',
      thumbnail_url: '/thumbnails/abc.webp',
      source_url: 'https://example.com/x',
      width: 4,
      height: 3,
      file_name: 'blue car.jpg',
    });
  });
  it('makes absolute paths under IMAGES_DIR relative, and has null for what is missing', () => {
    const hit = toHit(
      { id: 'a', score: 1, doc: { ...doc, path: '/data/images/x.png', thumbnail: null, source_url: undefined } },
      '/data/images/',
    );
    expect(hit.url).toBe('/images/x.png');
    expect(hit.thumbnail_url).toBeNull();
    expect(hit.source_url).toBeNull();
  });
});
