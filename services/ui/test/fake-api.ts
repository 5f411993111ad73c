// A stand-in for the search API at the fetch seam: routes by method and path, records every call.
import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import type { Facets, Hit, Meta } from '../src/api.ts';

export interface FakeCall {
  method: string;
  path: string;
  query: URLSearchParams;
  body: BodyInit | null | undefined;
}

type Reply = { status?: number; json: unknown; headers?: Record<string, string> } | 'network-error';
type Route = (call: FakeCall) => Reply | Promise<Reply>;

export function hit(n: number, extra: Partial<Hit> = {}): Hit {
  return {
    id: `id${n}`,
    score: 0.9 - n * 0.01234,
    url: `/images/pic-${n}.png`,
    thumbnail_url: `/thumbnails/id${n}.webp`,
    source_url: `https://example.com/pic-${n}.png`,
    width: 640,
    height: 480,
    file_name: `pic-${n}.png`,
    taken_at: null,
    added_at: null,
    folder: '',
    format: 'png',
    source_host: 'example.com',
    ...extra,
  };
}

/** `count` hits numbered from `from` + 1, as page `from` of a search answers. */
export function hits(count: number, from = 0): Hit[] {
  return Array.from({ length: count }, (_, i) => hit(from + i + 1));
}

export const FACETS: Facets = {
  host: [
    { value: 'a.example', count: 5 },
    { value: 'b.example', count: 2 },
  ],
  folder: [{ value: 'trips', count: 4 }],
  format: [{ value: 'png', count: 7 }],
  year: [{ value: '2024', count: 7 }],
};

/** A search's answer: with facets=true the hits and FACETS, else the bare list, as the API answers. */
function answer(facets: string | null, list: Hit[]): Reply {
  return { json: facets === 'true' ? { hits: list, facets: FACETS } : list };
}

export const META: Meta = {
  model_name: 'tiny/synthetic',
  vector_dim: 64,
  device: 'cpu',
  es_version: '8.19.2',
  es_index: 'images',
  doc_count: 1234,
  hnsw_m: 16,
  hnsw_ef: 512,
  cluster: 'image-search',
  model_dir: '/models/tiny',
  synthetic: false,
  exported_with: { torch: '2.5.1', open_clip: '2.29.0', onnx: '1.17.0' },
  concrete_index: 'images-tiny-v1',
  provider: 'cpu',
  strong_match_score: 0.62,
  max_k: 100,
  cluster_status: 'green',
  reindexing: null,
  work_queue: null,
};

export class FakeApi {
  readonly calls: FakeCall[] = [];
  private readonly routes = new Map<string, Route>();

  constructor() {
    this.on('GET /meta', () => ({ json: META }));
    this.on('GET /search/text', (c) =>
      answer(c.query.get('facets'), hits(Number(c.query.get('k') ?? 10), Number(c.query.get('from') ?? 0))),
    );
    this.on('POST /search/combine', (c) => {
      const body = JSON.parse(String(c.body)) as { k: number; from: number; facets?: boolean };
      return answer(String(body.facets), hits(body.k, body.from));
    });
    this.on('GET /search/similar', (c) => answer(c.query.get('facets'), hits(Number(c.query.get('k') ?? 10))));
    this.on('POST /search/image', (c) => answer(c.query.get('facets'), hits(Number(c.query.get('k') ?? 10))));
  }

  /** Route key: 'GET /search/text'; '/search/similar' matches '/search/similar/<id>' too. */
  on(key: string, route: Route): this {
    this.routes.set(key, route);
    return this;
  }

  callsTo(prefix: string): FakeCall[] {
    return this.calls.filter((c) => `${c.method} ${c.path}`.startsWith(prefix));
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://ui.test');
    if (!url.pathname.startsWith('/api/')) throw new Error(`the page fetched ${url.pathname}, outside /api`);
    const path = url.pathname.slice(4);
    const method = (init.method ?? 'GET').toUpperCase();
    const call = { method, path, query: url.searchParams, body: init.body };
    this.calls.push(call);
    const key = [...this.routes.keys()].find(
      (k) => `${method} ${path}` === k || `${method} ${path}`.startsWith(`${k}/`),
    );
    if (!key) return Response.json({ error: 'not_found', message: `no route ${method} ${path}` }, { status: 404 });
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const reply = await this.routes.get(key)!(call);
    if (reply === 'network-error') throw new TypeError('Failed to fetch');
    return Response.json(reply.json, { status: reply.status ?? 200, headers: reply.headers });
  };
}

/** A fresh FakeApi in place of fetch, and a clean URL, for each test of the file that calls this; returns it. */
export function withFakeApi(): () => FakeApi {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi();
    vi.stubGlobal('fetch', api.fetch);
    window.history.replaceState(null, '', '/');
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });
  return () => api;
}
