// Filters, cutoff, order, pages, keyword and hybrid search, query arithmetic and facets, against real Elasticsearch
// and the tiny synthetic model, over colour pictures that carry dates, hosts, folders, formats and file names.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Facets as FacetsBody, Hit } from '@image-search/api-contract';
import type { ImageDoc } from '@image-search/search-index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, type Picture, startFixture } from './fixture.ts';

const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 25],
  purple: [128, 25, 166],
  blue: [30, 50, 220],
  green: [30, 170, 40],
  yellow: [240, 225, 30],
};
const COPIES = 8;
const TOTAL = Object.keys(COLOURS).length * COPIES;
const HOSTS = ['a.example', 'b.example', 'c.example'];
/** The blue picture whose file name says what CLIP cannot see. */
const INVOICE = 11;

/** What each picture carries, by its number: spread so that each filter keeps a different part. */
function factsOf(n: number): Partial<ImageDoc> {
  const dated = new Date(Date.UTC(2014 + ((n * 7) % 11), n % 12, 1 + (n % 27))).toISOString();
  const portrait = n % 4 === 0;
  return {
    taken_at: n % 5 === 4 ? null : dated,
    added_at: '2024-01-01T00:00:00.000Z',
    dated_at: n % 5 === 4 ? '2024-01-01T00:00:00.000Z' : dated,
    source_host: HOSTS[n % 3],
    folder: n % 6 === 0 ? 'trips/2021/beach' : n % 2 ? 'trips/2021' : 'home',
    format: n % 3 === 1 ? 'png' : 'jpeg',
    orientation: portrait ? 'portrait' : 'landscape',
    width: portrait ? 32 : 48,
    height: portrait ? 48 : 32,
    ...(n === INVOICE ? { file_name: 'invoice-2041.png', keywords: ['receipt'] } : {}),
  };
}

type Buckets = FacetsBody['host'];

let f: Fixture;
const facts: Array<Partial<ImageDoc>> = [];
beforeAll(async () => {
  f = await startFixture({
    colours: COLOURS,
    copies: COPIES,
    env: { MAX_K: '60', TOP_K: '10' },
    facts: (_p: Picture, n: number) => {
      facts[n] = factsOf(n);
      return facts[n];
    },
  });
});
afterAll(async () => {
  await f?.close();
});

const colourOf = (hit: Hit) => f.pictures.find((p) => p.id === hit.id)?.colour;
const numberOf = (hit: Hit) => f.pictures.findIndex((p) => p.id === hit.id);

async function get<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(f.base + path, init);
  return { status: res.status, body: (await res.json()) as T };
}

const post = <T>(path: string, body: unknown) =>
  get<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function strongMatch(): Promise<number> {
  return (await get<{ strong_match_score: number }>('/meta')).body.strong_match_score;
}

describe('filters', () => {
  const cases: Array<[string, (d: Partial<ImageDoc>) => boolean]> = [
    ['host=a.example', (d) => d.source_host === 'a.example'],
    ['host=a.example,c.example&format=png', (d) => d.source_host !== 'b.example' && d.format === 'png'],
    ['folder=trips/2021', (d) => d.folder?.startsWith('trips/2021') === true],
    ['folder=trips/2021/beach', (d) => d.folder === 'trips/2021/beach'],
    ['orientation=portrait', (d) => d.orientation === 'portrait'],
    ['min_width=40', (d) => (d.width ?? 0) >= 40],
    ['taken_from=2018-01-01&taken_to=2020-12-31', (d) => !!d.taken_at && d.taken_at >= '2018' && d.taken_at < '2021'],
    ['added_to=2023-12-31', () => false],
    ['year=2024', (d) => d.dated_at?.startsWith('2024') === true],
    ['year=2016&year=2024', (d) => /^(2016|2024)/.test(d.dated_at ?? '')],
  ];

  it.each(cases)('%s: every hit passes, and as many as a count of the whole corpus', async (filter, passes) => {
    const expected = facts.filter(passes).length;
    for (const path of [`/search/text?q=red&k=60&${filter}`, `/search/text?q=red&k=60&mode=hybrid&${filter}`]) {
      const { status, body } = await get<Hit[]>(path);
      expect(status).toBe(200);
      expect(body.every((h) => passes(facts[numberOf(h)]))).toBe(true);
      expect(body).toHaveLength(expected);
    }
    // selective filters still fill a small page: kNN filters while it searches, not afterwards
    const page = await get<Hit[]>(`/search/text?q=yellow&k=3&${filter}`);
    expect(page.body).toHaveLength(Math.min(3, expected));
  });

  it('takes a year as the year facet counts it: the date taken, else the date added', async () => {
    const in2024 = facts.filter((d) => d.dated_at?.startsWith('2024'));
    expect(in2024.some((d) => d.taken_at === null)).toBe(true);
    const { body } = await get<Hit[]>('/search/text?q=red&k=60&year=2024');
    expect(body.some((h) => h.taken_at === null)).toBe(true);
    expect(body.every((h) => (h.taken_at ?? h.added_at)?.startsWith('2024'))).toBe(true);
    const facets = await get<FacetsBody>('/search/facets?q=red&year=2024');
    expect(facets.body.year).toContainEqual({ value: '2024', count: in2024.length });
    expect(facets.body.host.reduce((n, b) => n + b.count, 0)).toBe(in2024.length);
    for (const year of [['2024'], 2024, [2024]]) {
      const combined = await post<Hit[]>('/search/combine', { parts: [{ text: 'red' }], k: 60, year });
      expect(combined.body).toHaveLength(in2024.length);
    }
  });

  it('applies to "more like this" and picture searches too', async () => {
    const red = f.pictures.findIndex((p) => p.colour === 'red');
    const { body } = await get<Hit[]>(`/search/similar/${f.pictures[red].id}?k=60&host=b.example`);
    expect(body.length).toBe(facts.filter((d, n) => d.source_host === 'b.example' && n !== red).length);
    expect(body.every((h) => h.source_host === 'b.example')).toBe(true);
  });
});

describe('cutoff and order', () => {
  it('keeps only strong matches: the red pictures for "red"', async () => {
    const all = await get<Hit[]>('/search/text?q=red&k=60');
    expect(all.body.map(colourOf)).toContain('purple');
    const { body } = await get<Hit[]>(`/search/text?q=red&k=60&min_score=${await strongMatch()}`);
    expect(body.map(colourOf)).toEqual(Array(COPIES).fill('red'));
  });

  it('sorts "red" newest first among the strong matches', async () => {
    const { body } = await get<Hit[]>(`/search/text?q=red&k=60&sort=newest&min_score=${await strongMatch()}`);
    expect(body.map(colourOf)).toEqual(Array(COPIES).fill('red'));
    const dates = body.map((h) => facts[numberOf(h)].dated_at as string);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(body.map((h) => h.taken_at)).toEqual(body.map((h) => facts[numberOf(h)].taken_at));
    const oldest = await get<Hit[]>(`/search/text?q=red&k=60&sort=oldest&min_score=${await strongMatch()}`);
    expect(oldest.body.map((h) => h.id)).toEqual(body.map((h) => h.id).reverse());
  });
});

describe('pages', () => {
  it.each(['mode=vector', 'mode=vector&sort=newest', 'mode=hybrid', 'mode=hybrid&sort=oldest', 'mode=keyword'])(
    '%s: pages never repeat or skip a picture',
    async (params) => {
      const whole = await get<Hit[]>(`/search/text?q=blue%20trips&k=60&${params}`);
      const paged: string[] = [];
      for (let from = 0; from < 60; from += 7) {
        const k = Math.min(7, 60 - from);
        const { status, body } = await get<Hit[]>(`/search/text?q=blue%20trips&k=${k}&from=${from}&${params}`);
        expect(status).toBe(200);
        paged.push(...body.map((h) => h.id));
      }
      expect(paged).toEqual(whole.body.map((h) => h.id));
      expect(new Set(paged).size).toBe(paged.length);
      if (!params.includes('keyword')) expect(paged).toHaveLength(TOTAL);
    },
  );

  it('refuses to page past MAX_K, naming the parameter', async () => {
    const { status, body } = await get<{ message: string }>('/search/text?q=red&k=10&from=55');
    expect(status).toBe(400);
    expect(body.message).toMatch(/^from: from \+ k must be at most 60/);
  });
});

describe('keyword and hybrid', () => {
  it('finds a picture by a word of its file name that the vector alone ranks low', async () => {
    const vector = await get<Hit[]>('/search/text?q=red%20invoice&k=10');
    expect(vector.body.map(numberOf)).not.toContain(INVOICE);
    const keyword = await get<Hit[]>('/search/text?q=red%20invoice&k=10&mode=keyword');
    // "red" matches the red pictures' file names too; the rarer word weighs more
    expect(keyword.body.map(numberOf)[0]).toBe(INVOICE);
    const hybrid = await get<Hit[]>('/search/text?q=red%20invoice&k=10&mode=hybrid');
    expect(hybrid.body.map(numberOf)).toContain(INVOICE);
    expect(hybrid.body.filter((h) => colourOf(h) === 'red').length).toBeGreaterThanOrEqual(5);
    const byKeyword = await get<Hit[]>('/search/text?q=receipt&k=10&mode=keyword');
    expect(byKeyword.body.map((h) => h.file_name)).toEqual(['invoice-2041.png']);
  });
});

describe('query arithmetic', () => {
  it('"red" − "blue" ranks purple below red, further down than "red" alone', async () => {
    const rankOfPurple = (hits: Hit[]) => hits.findIndex((h) => colourOf(h) === 'purple');
    const red = await get<Hit[]>('/search/text?q=red&k=60');
    const { status, body } = await post<Hit[]>('/search/combine', {
      parts: [{ text: 'red' }, { text: 'blue', weight: -1 }],
      k: 60,
    });
    expect(status).toBe(200);
    expect(body.slice(0, COPIES).map(colourOf)).toEqual(Array(COPIES).fill('red'));
    expect(rankOfPurple(body)).toBeGreaterThan(rankOfPurple(red.body));
  });

  it('combines a picture with a text and leaves the picture out', async () => {
    const blue = f.pictures.find((p) => p.colour === 'blue')!;
    const rankOfRed = (hits: Hit[]) => hits.findIndex((h) => colourOf(h) === 'red');
    const similar = await get<Hit[]>(`/search/similar/${blue.id}?k=60`);
    const { body } = await post<Hit[]>('/search/combine', { parts: [{ id: blue.id }, { text: 'red' }], k: 60 });
    expect(body.map((h) => h.id)).not.toContain(blue.id);
    expect(body).toHaveLength(TOTAL - 1);
    expect(rankOfRed(body)).toBeLessThan(rankOfRed(similar.body));
  });

  it('says what is wrong with a part', async () => {
    const cancel = await post<{ message: string }>('/search/combine', {
      parts: [{ text: 'red' }, { text: 'red', weight: -1 }],
    });
    expect(cancel).toEqual({
      status: 400,
      body: expect.objectContaining({ message: expect.stringMatching(/^parts: /) }),
    });
    const missing = await post<{ message: string }>('/search/combine', { parts: [{ id: 'nope' }] });
    expect(missing.status).toBe(404);
    const bad = await post<{ message: string }>('/search/combine', { parts: [] });
    expect(bad.body.message).toMatch(/^parts must be a list of 1 to 10/);
  });
});

describe('facets', () => {
  type Name = keyof FacetsBody;
  const NAMES: Name[] = ['host', 'folder', 'format', 'year'];
  const facetValue = (d: Partial<ImageDoc>, name: Name) =>
    ({ host: d.source_host, folder: d.folder, format: d.format, year: d.dated_at?.slice(0, 4) })[name];
  const countBy = (docs: Array<Partial<ImageDoc>>, name: Name) => {
    const m: Record<string, number> = {};
    for (const d of docs) {
      const v = facetValue(d, name);
      if (v != null) m[v] = (m[v] ?? 0) + 1;
    }
    return m;
  };
  const asMap = (b: Buckets) => Object.fromEntries(b.map((x) => [x.value, x.count]));
  /** Filters (named as the facets they narrow) that leave every kind of search something to count. */
  const FILTERS: Record<string, string[]> = { host: ['b.example'], folder: ['home'], year: ['2016', '2017', '2024'] };

  it('counts each facet over what the search keeps, with every other filter on but its own', async () => {
    const filters = { host: 'b.example', folder: 'home' };
    const { body } = await get<FacetsBody>(
      `/search/facets?q=red&min_score=${await strongMatch()}&host=${filters.host}&folder=${filters.folder}`,
    );
    // the strong matches of "red" are the red pictures: counted here from what each picture carries
    const reds = facts.filter((_, n) => f.pictures[n].colour === 'red');
    const passing = (without: Name) =>
      reds.filter(
        (d) =>
          (without === 'host' || d.source_host === filters.host) &&
          (without === 'folder' || d.folder === filters.folder),
      );
    for (const name of NAMES) expect(asMap(body[name]), name).toEqual(countBy(passing(name), name));
    expect(body.host.length).toBeGreaterThan(1);
  });

  describe('with fewer places than matches (MAX_K 5, 8 pictures)', () => {
    let g: Fixture;
    beforeAll(async () => {
      g = await startFixture({
        colours: { red: COLOURS.red, blue: COLOURS.blue },
        copies: 4,
        env: { MAX_K: '5', TOP_K: '5' },
        facts: (_p, n) => ({ source_host: HOSTS[n % 2], folder: n % 3 ? 'trips' : 'home' }),
      });
    });
    afterAll(async () => {
      await g?.close();
    });

    it('counts the best MAX_K the search pages through, each facet without its own filter', async () => {
      const like = `${g.base}/search/similar/${g.pictures[0].id}?k=5`;
      const answer = (await (await fetch(`${like}&facets=true&host=${HOSTS[0]}`)).json()) as {
        hits: Hit[];
        facets: FacetsBody;
      };
      const best = (await (await fetch(like)).json()) as Hit[];
      const asDocs = (hits: Hit[]) => hits.map((h) => ({ source_host: h.source_host, folder: h.folder ?? undefined }));
      // 7 pictures besides the one searched with, the best 5 counted; the host facet without the host filter
      expect(answer.facets.host.reduce((n, b) => n + b.count, 0)).toBe(5);
      expect(asMap(answer.facets.host)).toEqual(countBy(asDocs(best), 'host'));
      expect(answer.hits.every((h) => h.source_host === HOSTS[0])).toBe(true);
      expect(asMap(answer.facets.folder)).toEqual(countBy(asDocs(answer.hits), 'folder'));
    });
  });

  const red = () => f.pictures.findIndex((p) => p.colour === 'red');
  const query = (params: Record<string, string[]>) =>
    new URLSearchParams(
      Object.entries(params).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v])),
    ).toString();
  /** Every kind of search, answering with facets when asked; a JSON body gives the years as numbers. */
  const searches: Record<string, (params: Record<string, string[]>, facets: boolean) => Promise<unknown>> = {
    similar: async (params, facets) =>
      (await get(`/search/similar/${f.pictures[red()].id}?k=60&facets=${facets}&${query(params)}`)).body,
    upload: async (params, facets) => {
      const bytes = await readFile(path.join(f.imagesDir, f.pictures[red()].rel));
      const init = { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes };
      return (await get(`/search/image?k=60&facets=${facets}&${query(params)}`, init)).body;
    },
    combine: async (params, facets) => {
      const { year, ...rest } = params;
      const body = { parts: [{ text: 'red' }, { text: 'blue', weight: -0.5 }], k: 60, facets, ...rest };
      return (await post('/search/combine', { ...body, folder: rest.folder?.[0], year: year?.map(Number) })).body;
    },
    keyword: async (params, facets) =>
      (await get(`/search/text?q=red%20green&mode=keyword&k=60&facets=${facets}&${query(params)}`)).body,
    hybrid: async (params, facets) =>
      (await get(`/search/text?q=red&mode=hybrid&k=60&facets=${facets}&${query(params)}`)).body,
  };

  it.each(Object.keys(searches))(
    "%s: gives facets with its answer, each counted over its own hits without that facet's filter",
    async (kind) => {
      const search = searches[kind];
      const answer = (await search(FILTERS, true)) as { hits: Hit[]; facets: FacetsBody };
      expect(answer.hits).toEqual(await search(FILTERS, false));
      expect(answer.hits.length).toBeGreaterThan(0);
      for (const name of NAMES) {
        const { [name]: _, ...others } = FILTERS;
        const set = (await search(others, false)) as Hit[];
        expect(asMap(answer.facets[name]), name).toEqual(
          countBy(
            set.map((h) => facts[numberOf(h)]),
            name,
          ),
        );
      }
      expect(answer.facets.host.length).toBeGreaterThan(1);
    },
  );
});

describe('bad values', () => {
  it.each([
    ['sort=best', /^sort must be one of relevance, newest, oldest/],
    ['mode=fuzzy', /^mode must be one of vector, keyword, hybrid/],
    ['min_score=2', /^min_score must be a number from 0 to 1/],
    ['taken_from=yesterday', /^taken_from must be a date/],
    ['format=bmp', /^format must be one of jpeg, png/],
    ['year=abc', /^year must be a 4-digit year/],
    ['orientation=round', /^orientation must be one of landscape, portrait, square/],
    ['min_width=-1', /^min_width must be an integer from 1/],
    ['from=x', /^from must be an integer from 0 to 59/],
  ])('%s → 400 naming the parameter and what is allowed', async (params, message) => {
    const { status, body } = await get<{ message: string }>(`/search/text?q=red&${params}`);
    expect(status).toBe(400);
    expect(body.message).toMatch(message);
  });

  // each case wrapped in a list of its one argument, so the list case is not spread into arguments
  it.each([[99999], ['abc'], [[2024, 'x']], [2024.5], [true], [{ year: 2024 }]])(
    'year %j in a JSON body → 400 naming the parameter',
    async (year: unknown) => {
      const { status, body } = await post<{ message: string }>('/search/combine', { parts: [{ text: 'red' }], year });
      expect(status).toBe(400);
      expect(body.message).toMatch(/^year must be a 4-digit year, e\.g\. 2024/);
    },
  );

  it('documents every parameter in OpenAPI', async () => {
    const { body } = await get<{ paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>> }>(
      '/docs/json',
    );
    const names = body.paths['/search/text'].get.parameters?.map((p) => p.name) ?? [];
    for (const name of 'q k from mode min_score sort taken_from host folder format year facets'.split(' ')) {
      expect(names).toContain(name);
    }
    expect(body.paths).toHaveProperty('/search/combine');
    expect(body.paths).toHaveProperty('/search/facets');
  });
});
