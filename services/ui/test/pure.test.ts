import { describe, expect, it } from 'vitest';
import { apiAsset, hitName, parseServerTiming, thumbnailSrc } from '../src/api.ts';
import { columnsOf, gridStep } from '../src/grid-keys.ts';
import { refineParts } from '../src/refine-terms.ts';
import { DEFAULT_OPTIONS, type SearchOptions, toggleIn } from '../src/search-options.ts';
import { clampK, readUrl, writeUrl } from '../src/url-state.ts';
import { hit } from './fake-api.ts';

describe('the search in the page URL', () => {
  it('round-trips a text search and k, so a shared link repeats the search', () => {
    const url = writeUrl({ kind: 'text', q: 'red car & sky' }, 7, DEFAULT_OPTIONS);
    expect(url).toBe('?q=red+car+%26+sky&k=7');
    expect(readUrl(url, 10)).toEqual({ query: { kind: 'text', q: 'red car & sky' }, k: 7, options: DEFAULT_OPTIONS });
  });

  it('round-trips "more like this"', () => {
    expect(readUrl(writeUrl({ kind: 'similar', id: 'abc' }, 3, DEFAULT_OPTIONS), 10)).toEqual({
      query: { kind: 'similar', id: 'abc' },
      k: 3,
      options: DEFAULT_OPTIONS,
    });
  });

  it('round-trips every option: mode, order, strong matches, refine terms and filters', () => {
    const options: SearchOptions = {
      mode: 'hybrid',
      sort: 'newest',
      strong: true,
      refine: '+night -people',
      filters: { host: ['a.example', 'b.example'], format: ['png'], folder: 'trips/2024', added_from: '2024-01-01' },
    };
    const url = writeUrl({ kind: 'text', q: 'beach' }, 8, options);
    expect(readUrl(url, 10)).toEqual({ query: { kind: 'text', q: 'beach' }, k: 8, options });
  });

  it('falls back to the defaults for a mode or order it does not know', () => {
    const { options } = readUrl('?q=x&mode=psychic&sort=sideways', 10);
    expect([options.mode, options.sort]).toEqual(['vector', 'relevance']);
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

describe('refine terms', () => {
  it('pulls towards + terms and away from - terms, at half weight, with quoted phrases', () => {
    expect(refineParts('+night -people "red roof" −dog')).toEqual([
      { text: 'night', weight: 0.5 },
      { text: 'people', weight: -0.5 },
      { text: 'red roof', weight: 0.5 },
      { text: 'dog', weight: -0.5 },
    ]);
    expect(refineParts('  + - ')).toEqual([]);
  });
});

describe('filter chips and grid keys', () => {
  it('turns a value of a list filter on and off', () => {
    expect(toggleIn(undefined, 'a')).toEqual(['a']);
    expect(toggleIn(['a', 'b'], 'a')).toEqual(['b']);
    expect(toggleIn(['a'], 'a')).toBeUndefined();
  });

  it('moves by one across and by a row up and down, staying inside the grid', () => {
    expect(columnsOf([10, 10, 10, 10, 200, 200])).toBe(4);
    expect(columnsOf([10])).toBe(1);
    expect(gridStep('ArrowRight', 1, 6, 4)).toBe(2);
    expect(gridStep('ArrowLeft', 0, 6, 4)).toBe(0);
    expect(gridStep('ArrowDown', 1, 6, 4)).toBe(5);
    expect(gridStep('ArrowDown', 3, 6, 4)).toBe(5);
    expect(gridStep('ArrowUp', 5, 6, 4)).toBe(1);
    expect(gridStep('ArrowUp', 2, 6, 4)).toBe(2);
    expect(gridStep('End', 0, 6, 4)).toBe(5);
    expect(gridStep('a', 0, 6, 4)).toBeNull();
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
