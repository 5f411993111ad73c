// Pure rules: hit links.
import { describe, expect, it } from 'vitest';
import { toHit } from '../src/hits.ts';

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
    taken_at: '2021-07-04T10:11:12.000Z',
    folder: 'sub',
    format: 'jpeg',
  };
  it('links to this server with encoded relative paths, and carries what is known of the picture', () => {
    expect(toHit({ id: 'abc', score: 0.9, doc }, '/data/images')).toEqual({
      id: 'abc',
      score: 0.9,
      url: '/images/sub/blue%20car.jpg',
      thumbnail_url: '/thumbnails/abc.webp',
      source_url: 'https://example.com/x',
      width: 4,
      height: 3,
      file_name: 'blue car.jpg',
      taken_at: '2021-07-04T10:11:12.000Z',
      added_at: null,
      folder: 'sub',
      format: 'jpeg',
      source_host: null,
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
