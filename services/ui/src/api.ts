// The search-api as the page sees it: every call goes through the UI server's /api proxy (one origin), and every
// failure becomes an ApiError whose `hint` tells a person what to do next. The shapes are the API's own contract.
import type {
  CombinePart,
  CombineRequest,
  ErrorBody,
  ErrorCode,
  Facets,
  Hit,
  HitsWithFacets,
  Meta,
  Mode,
} from '@image-search/api-contract';

export type { Facets, Hit, Meta };

/**
 * What every search sends besides what it looks for (page, cutoff, order, filters), in the API's own names; `facets`
 * asks for the counts with the answer.
 */
export type PageParams = Omit<CombineRequest, 'parts'>;

export interface SearchResult {
  hits: Hit[];
  /** The facet counts, when the request asked for them. */
  facets?: Facets;
  /** Round trip seen by the page: request sent to answer parsed. */
  latencyMs: number;
  /** The API's own breakdown from Server-Timing (embed, knn …), when it sends one. */
  serverTiming: Record<string, number>;
}

export type ApiErrorKind =
  | 'api_down'
  | 'unavailable'
  | 'bad_request'
  | 'too_large'
  | 'unsupported'
  | 'not_found'
  | 'other';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly hint: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const API_BASE = '/api';

/** Hit URLs are API paths (`/images/x.jpg`); the page reaches them through the proxy. */
export function apiAsset(url: string | null | undefined): string | null {
  if (!url) return null;
  if (/^(https?:|data:|blob:)/.test(url)) return url;
  return `${API_BASE}${url.startsWith('/') ? '' : '/'}${url}`;
}

export function thumbnailSrc(hit: Hit): string {
  return apiAsset(hit.thumbnail_url) ?? apiAsset(hit.url) ?? '';
}

/** The file a hit shows, for alt text and captions: the API's file_name, else the last part of its URL. */
export function hitName(hit: Hit): string {
  if (hit.file_name) return hit.file_name;
  const last = hit.url.split('/').pop() ?? hit.id;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!header) return out;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    if (name && dur) {
      const v = Number(dur.slice(4));
      if (Number.isFinite(v)) out[name.trim()] = v;
    }
  }
  return out;
}

function hintFor(kind: ApiErrorKind): string {
  switch (kind) {
    case 'api_down':
      return 'Start it with "pnpm search-api" (or check that API_URL points at it), then try again.';
    case 'unavailable':
      return 'Elasticsearch or the model is not ready. Check that Elasticsearch is running ("pnpm es:status"); the API recovers by itself once it is back. Try again in a few seconds.';
    case 'bad_request':
      return 'Change the query and search again.';
    case 'too_large':
      return 'Choose a smaller picture.';
    case 'unsupported':
      return 'Choose a JPEG, PNG, WebP, GIF or AVIF picture.';
    case 'not_found':
      return 'That picture is no longer in the index; run a new search.';
    default:
      return 'Try again; if it keeps happening, the search API log says why.';
  }
}

function kindFor(status: number, code: ErrorCode | undefined, viaProxy: boolean): ApiErrorKind {
  if (viaProxy || status === 502 || status === 504) return 'api_down';
  if (status === 503 || code === 'unavailable' || code === 'overloaded') return 'unavailable';
  if (status === 400 || code === 'bad_request') return 'bad_request';
  if (status === 413 || code === 'payload_too_large') return 'too_large';
  if (status === 415 || code === 'unsupported_media_type') return 'unsupported';
  if (status === 404 || code === 'not_found') return 'not_found';
  return 'other';
}

async function errorFrom(res: Response): Promise<ApiError> {
  let code: ErrorCode | undefined;
  let message = `${res.status} ${res.statusText}`.trim();
  try {
    const body = (await res.json()) as Partial<ErrorBody>;
    code = body.error;
    if (body.message) message = body.message;
  } catch {
    // Not JSON (a proxy page, an empty body): the status line is all there is.
  }
  const kind = kindFor(res.status, code, res.headers.get('x-ui-proxy') === 'upstream-unreachable');
  if (kind === 'api_down' && res.headers.get('x-ui-proxy') !== 'upstream-unreachable') {
    message = `The search API answered ${res.status}: ${message}`;
  }
  return new ApiError(kind, message, hintFor(kind), res.status);
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(
      'api_down',
      'The page cannot reach its server.',
      'Check that "pnpm ui" is running, then reload.',
      0,
    );
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

async function timedSearch(path: string, init: RequestInit): Promise<SearchResult> {
  const t0 = performance.now();
  const res = await request(path, init);
  const answer = (await res.json()) as Hit[] | HitsWithFacets;
  const latencyMs = performance.now() - t0;
  const serverTiming = parseServerTiming(res.headers.get('server-timing'));
  return Array.isArray(answer) ? { hits: answer, latencyMs, serverTiming } : { ...answer, latencyMs, serverTiming };
}

/** A query string of the parameters that are set; lists as comma-separated values, as the API reads them. */
export function queryString(params: Record<string, unknown>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [name, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(name, Array.isArray(v) ? v.join(',') : String(v));
  }
  return p;
}

export function searchText(q: string, mode: Mode, params: PageParams, signal?: AbortSignal): Promise<SearchResult> {
  return timedSearch(`/search/text?${queryString({ q, mode, ...params })}`, { signal });
}

export function searchSimilar(id: string, params: PageParams, signal?: AbortSignal): Promise<SearchResult> {
  return timedSearch(`/search/similar/${encodeURIComponent(id)}?${queryString(params)}`, { signal });
}

export function searchImage(file: Blob, params: PageParams, signal?: AbortSignal): Promise<SearchResult> {
  const form = new FormData();
  form.append('file', file, (file as File).name || 'pasted-image');
  return timedSearch(`/search/image?${queryString(params)}`, { method: 'POST', body: form, signal });
}

/** Query arithmetic: the search and its refine terms as weighted parts. */
export function searchCombine(parts: CombinePart[], params: PageParams, signal?: AbortSignal): Promise<SearchResult> {
  const body: CombineRequest = { parts, ...params };
  return timedSearch('/search/combine', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

export async function fetchMeta(signal?: AbortSignal): Promise<Meta> {
  const res = await request('/meta', { signal });
  return (await res.json()) as Meta;
}
