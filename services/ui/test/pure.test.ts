import { describe, expect, it } from 'vitest';
import { apiAsset, hitName, parseServerTiming, thumbnailSrc } from '../src/api.ts';
import { clampK, readUrl, writeUrl } from '../src/url-state.ts';
import { hit } from './fake-api.ts';

describe('the search in the page URL', () => {
  it('round-trips a text search and k, so a shared link repeats the search', () => {
    const url = writeUrl({ kind: 'text', q: 'red car & sky' }, 7);
    expect(readUrl(url, 10)).toEqual({ query: { kind: 'text', q: 'red car & sky' }, k: 7 });
  });

  it('round-trips "more like this"', () => {
    expect(readUrl(writeUrl({ kind: 'similar', id: 'abc' }, 3), 10)).toEqual({
      query: { kind: 'similar', id: 'abc' },
      k: 3,
    });
  });

  it('falls back to the default k and clamps k to 1..20', () => {
    expect(readUrl('?q=x', 12).k).toBe(12);
    expect(readUrl('?q=x&k=500', 10).k).toBe(20);
    expect(readUrl('?q=x&k=0', 10).k).toBe(1);
    expect(readUrl('?q=x&k=abc', 10).k).toBe(10);
    expect(clampK('4.6', 10)).toBe(5);
  });

  it('treats a blank query as no search', () => {
    expect(readUrl('?q=%20%20&k=3', 10).query).toEqual({ kind: 'none' });
  });
});

describe('hit helpers', () => {
  it('reaches API paths through /api and leaves absolute URLs alone', () => {
    expect(apiAsset('/images/a.jpg')).toBe('/api/images/a.jpg');
    expect(apiAsset('https://cdn.example/a.jpg')).toBe('https://cdn.example/a.jpg');
    expect(apiAsset(null)).toBeNull();
  });

  it('uses the thumbnail, and the full picture when there is none', () => {
    expect(thumbnailSrc(hit(1))).toBe('/api/thumbnails/id1.webp');
    expect(thumbnailSrc(hit(1, { thumbnail_url: null }))).toBe('/api/images/pic-1.png');
  });

  it('names a hit by its file, else by the last part of its URL', () => {
    expect(hitName(hit(2))).toBe('pic-2.png');
    expect(hitName(hit(2, { file_name: undefined, url: '/images/sub/sun%20set.jpg' }))).toBe('sun set.jpg');
  });

  it('reads Server-Timing durations', () => {
    expect(parseServerTiming('embed;dur=12.5, knn;desc="kNN";dur=3, cache')).toEqual({ embed: 12.5, knn: 3 });
    expect(parseServerTiming(null)).toEqual({});
  });
});
