// Query building as pure functions: filters, cutoff, order, pages, keyword queries, facets and rank fusion.
import { describe, expect, it } from 'vitest';
import {
  facetSearches,
  facetsRequest,
  filterClauses,
  keywordRequest,
  knnRequest,
  RRF_RANK_CONSTANT,
  rankingWindowsRequest,
  reciprocalRankFusion,
} from '../src/index.ts';

describe('filters', () => {
  it('turns each filter into one clause, bare days covering the whole day and folders their subfolders', () => {
    expect(filterClauses({})).toEqual([]);
    expect(
      filterClauses({
        takenFrom: '2021-01-01',
        takenTo: '2021-12-31',
        addedFrom: '2024-05-06T07:00:00Z',
        hosts: ['a.example'],
        folder: '/trips/2021/',
        formats: ['jpeg', 'png'],
        orientation: 'portrait',
        minWidth: 800,
        minHeight: 600,
      }),
    ).toEqual([
      { range: { taken_at: { gte: '2021-01-01||/d', lte: '2021-12-31||/d' } } },
      { range: { added_at: { gte: '2024-05-06T07:00:00Z' } } },
      { terms: { source_host: ['a.example'] } },
      {
        bool: {
          should: [{ term: { folder: 'trips/2021' } }, { prefix: { folder: 'trips/2021/' } }],
          minimum_should_match: 1,
        },
      },
      { terms: { format: ['jpeg', 'png'] } },
      { term: { orientation: 'portrait' } },
      { range: { width: { gte: 800 } } },
      { range: { height: { gte: 600 } } },
    ]);
  });

  it('matches any of the years on dated_at (taken, else added), each year from its first day to its last', () => {
    expect(filterClauses({ years: [2016, 2024] })).toEqual([
      {
        bool: {
          should: [
            { range: { dated_at: { gte: '2016-01-01||/d', lte: '2016-12-31||/d' } } },
            { range: { dated_at: { gte: '2024-01-01||/d', lte: '2024-12-31||/d' } } },
          ],
          minimum_should_match: 1,
        },
      },
    ]);
    expect(filterClauses({ years: [] })).toEqual([]);
  });
});

describe('kNN request', () => {
  const vector = [1, 0];

  it('filters inside the kNN search and turns the 0..1 cutoff into the cosine similarity', () => {
    const body = JSON.parse(
      knnRequest('images', { vector, k: 10, numCandidates: 100, minScore: 0.6, filters: { formats: ['png'] } }).body,
    );
    expect(body.knn).toMatchObject({
      k: 10,
      num_candidates: 100,
      filter: { bool: { filter: [{ terms: { format: ['png'] } }] } },
    });
    expect(body.knn.similarity).toBeCloseTo(0.2, 10);
  });

  it('pages by finding the pictures up to the page and skipping those before it', () => {
    const body = JSON.parse(knnRequest('images', { vector, k: 10, from: 30, numCandidates: 100 }).body);
    expect(body).toMatchObject({ from: 30, size: 10, knn: { k: 40, num_candidates: 100 } });
    expect(body).not.toHaveProperty('sort');
  });

  it('sorts the whole window by date, keeping scores, with the path breaking ties', () => {
    const body = JSON.parse(
      knnRequest('images', { vector, k: 10, from: 10, numCandidates: 100, sort: 'newest', window: 100 }).body,
    );
    expect(body).toMatchObject({ from: 10, size: 10, track_scores: true, knn: { k: 100 } });
    expect(body.sort).toEqual([{ dated_at: { order: 'desc', missing: '_last' } }, { path: 'asc' }]);
    const oldest = JSON.parse(knnRequest('images', { vector, k: 5, numCandidates: 10, sort: 'oldest' }).body);
    expect(oldest.sort[0].dated_at.order).toBe('asc');
  });
});

describe('keyword request and facets', () => {
  it('searches the words of file name, keywords, description, folder and host with the same filters and page', () => {
    const body = JSON.parse(
      keywordRequest('images', { text: 'IMG_2041', k: 5, from: 5, filters: { hosts: ['h'] } }).body,
    );
    expect(body).toMatchObject({ from: 5, size: 5 });
    expect(body.query.bool.must[0].multi_match).toMatchObject({ query: 'IMG_2041' });
    expect(body.query.bool.must[0].multi_match.fields).toEqual(
      expect.arrayContaining(['file_name.text^3', 'keywords^2', 'description', 'folder.text', 'source_host.text']),
    );
    expect(body.query.bool.filter).toEqual([{ terms: { source_host: ['h'] } }]);
  });

  it('counts hosts, folders, formats and years over the window of nearest pictures, the keyword matches, or both', () => {
    const req = facetsRequest('images', {
      knn: { vector: [1, 0], numCandidates: 100, minScore: 0.6 },
      text: 'beach',
      excludeIds: ['x'],
      window: 100,
    });
    expect(req.path).toMatch(/^\/images\/_msearch\?/);
    const lines = req.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const body = lines[1];
    expect(body.size).toBe(0);
    expect(body.knn).toMatchObject({ k: 100, num_candidates: 100, similarity: expect.closeTo(0.2) });
    expect(body.knn.filter.bool.must_not).toEqual([{ ids: { values: ['x'] } }]);
    expect(body.query.bool.must).toHaveLength(1);
    expect(Object.keys(body.aggs).sort()).toEqual(['folder', 'format', 'host', 'year']);
    expect(body.aggs.year.date_histogram).toMatchObject({ field: 'dated_at', calendar_interval: 'year' });
  });

  it('counts each facet whose filter is on without that filter, and the others with every filter', () => {
    const filters = { hosts: ['a'], years: [2024], orientation: 'portrait' as const };
    expect(facetSearches(filters)).toEqual([
      { facets: ['folder', 'format'] },
      { facets: ['host'], without: 'hosts' },
      { facets: ['year'], without: 'years' },
    ]);
    expect(facetSearches({})).toEqual([{ facets: ['host', 'folder', 'format', 'year'] }]);
    const lines = facetsRequest('images', { knn: { vector: [1, 0], numCandidates: 10 }, filters, window: 10 })
      .body.trimEnd()
      .split('\n')
      .filter((_, i) => i % 2 === 1)
      .map((l) => JSON.parse(l));
    const filterOf = (b: { knn: { filter: { bool: { filter: unknown[] } } } }) => JSON.stringify(b.knn.filter);
    expect(Object.keys(lines[1].aggs)).toEqual(['host']);
    expect(filterOf(lines[1])).not.toContain('source_host');
    expect(filterOf(lines[1])).toContain('dated_at');
    expect(filterOf(lines[2])).toContain('source_host');
    expect(filterOf(lines[2])).not.toContain('dated_at');
    expect(lines.every((b) => filterOf(b).includes('portrait'))).toBe(true);
  });
});

describe('hybrid ranking windows', () => {
  it('asks for both windows in one request, filtered alike, reading doc values and no stored document', () => {
    const filters = { hosts: ['a.example'] };
    const req = rankingWindowsRequest('images', {
      knn: { vector: [3, 4], k: 10, numCandidates: 100, minScore: 0.75, filters },
      keyword: { text: 'invoice', k: 10, filters },
      size: 100,
    });
    expect(req.path).toMatch(/^\/images\/_msearch\?/);
    const lines = req.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    const [byVector, byWords] = [lines[1], lines[3]];
    expect(byVector.knn).toMatchObject({ k: 100, num_candidates: 100, similarity: 0.5 });
    expect(byVector.knn.filter.bool.filter).toEqual([{ terms: { source_host: ['a.example'] } }]);
    expect(byWords.query.bool.filter).toEqual([{ terms: { source_host: ['a.example'] } }]);
    for (const search of [byVector, byWords]) {
      expect(search).toMatchObject({ size: 100, stored_fields: '_none_', docvalue_fields: ['path', 'dated_at'] });
    }
  });
});

describe('reciprocal rank fusion', () => {
  it('puts what both rankings find first and scores by 1 / (60 + rank) summed', () => {
    const hit = (id: string) => ({ id, score: 0 });
    const fused = reciprocalRankFusion(
      [
        [hit('a'), hit('b'), hit('c')],
        [hit('c'), hit('d')],
      ],
      (h) => h.id,
    );
    expect(fused.map((h) => h.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(fused[0].score).toBeCloseTo(1 / (RRF_RANK_CONSTANT + 3) + 1 / (RRF_RANK_CONSTANT + 1), 12);
    expect(reciprocalRankFusion([[], []], (h: { id: string; score: number }) => h.id)).toEqual([]);
  });
});
