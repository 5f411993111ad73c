// Reading the index: approximate kNN search (filtered, with a similarity cutoff, in date order, a page at a time), the
// keyword (BM25) search, and a document's stored vector.
import type { Client } from '@elastic/elasticsearch';
import { call, errorType, statusOf } from './errors.ts';
import { filterClauses, type SearchFilters } from './filters.ts';
import type { ImageDoc } from './mapping.ts';
import { type JsonRequest, responseError, SearchConnection } from './search-connection.ts';

export interface SearchHit {
  id: string;
  score: number;
  doc: Omit<ImageDoc, 'vector'>;
}

export type SortOrder = 'relevance' | 'newest' | 'oldest';

/** What every kind of search may add: a page, filters and an order. */
export interface PageQuery {
  /** Pictures on this page. */
  k: number;
  /** Pictures skipped before this page (default 0). */
  from?: number;
  filters?: SearchFilters;
  /**
   * relevance (default): best first. newest / oldest: by date taken, else added, among the best `window` pictures
   * (those passing the cutoff), so every page is cut from the same set.
   */
  sort?: SortOrder;
  /** How many best pictures date order sorts; at least from + k. */
  window?: number;
  /** Leave these documents out (e.g. the picture a "more like this" search started from). */
  excludeIds?: string[];
}

export interface KnnQuery extends PageQuery {
  vector: ArrayLike<number>;
  /** HNSW candidates per shard; raised to the number of nearest pictures asked for when smaller. */
  numCandidates: number;
  /** Only pictures at least this similar, in the API's 0..1 score (kNN `similarity`). */
  minScore?: number;
  /**
   * For a quantised index: take k × this many hits from the quantised graph and re-rank them by their float vectors
   * (kNN rescore_vector; 0 turns off even an index's default). Absent: Elasticsearch's default for the index.
   */
  rescoreOversample?: number;
}

export interface KeywordQuery extends PageQuery {
  text: string;
}

/** Searched by keyword, each with its weight: the file name and the picture's own keywords count most. */
export const KEYWORD_FIELDS = ['file_name.text^3', 'keywords^2', 'description', 'folder.text', 'source_host.text'];

/** Date order, newest or oldest first, pictures without a date last; the path breaks ties so pages never overlap. */
function dateSort(sort: SortOrder | undefined): unknown[] | undefined {
  if (!sort || sort === 'relevance') return undefined;
  return [{ dated_at: { order: sort === 'newest' ? 'desc' : 'asc', missing: '_last' } }, { path: 'asc' }];
}

/** How many best pictures the search must find: the page and all before it, or the whole window date order sorts. */
function topN(q: PageQuery): number {
  const k = Math.max(1, Math.floor(q.k));
  const upTo = (q.from ?? 0) + k;
  return q.sort && q.sort !== 'relevance' ? Math.max(upTo, q.window ?? upTo) : upTo;
}

function filterJson(q: PageQuery): string | null {
  const filter = filterClauses(q.filters ?? {});
  if (filter.length === 0 && !q.excludeIds?.length) return null;
  const bool: Record<string, unknown> = { filter };
  if (q.excludeIds?.length) bool.must_not = [{ ids: { values: q.excludeIds } }];
  return JSON.stringify({ bool });
}

/** The page, order and stored fields around a search. */
function pageJson(q: PageQuery): string {
  const sort = dateSort(q.sort);
  return (
    `"from":${Math.max(0, Math.floor(q.from ?? 0))},"size":${Math.max(1, Math.floor(q.k))},` +
    (sort ? `"sort":${JSON.stringify(sort)},"track_scores":true,` : '') +
    '"_source":{"excludes":["vector"]}'
  );
}

/** The knn section: the top N nearest pictures that pass the filters and the cutoff. */
export function knnJson(q: KnnQuery, n: number): string {
  const numCandidates = Math.max(n, Math.floor(q.numCandidates));
  const filter = filterJson(q);
  // dot_product's raw similarity is the cosine; the API's score is (1 + cosine) / 2
  const similarity = q.minScore === undefined ? '' : `,"similarity":${2 * q.minScore - 1}`;
  const rescore =
    q.rescoreOversample === undefined ? '' : `,"rescore_vector":{"oversample":${Number(q.rescoreOversample)}}`;
  return (
    `{"field":"vector","query_vector":${unitVectorJson(q.vector)},"k":${n},"num_candidates":${numCandidates}` +
    `${filter ? `,"filter":${filter}` : ''}${similarity}${rescore}}`
  );
}

export function keywordQueryJson(q: KeywordQuery): string {
  const filter = filterJson(q);
  const match = { multi_match: { query: q.text, fields: KEYWORD_FIELDS } };
  const bool: Record<string, unknown> = { must: [match] };
  if (filter) Object.assign(bool, (JSON.parse(filter) as { bool: object }).bool);
  return JSON.stringify({ bool });
}

/** What a search answer needs to carry: each hit's id, score and stored fields, none of the bookkeeping around them. */
export const KNN_FILTER_PATH = 'hits.hits._id,hits.hits._score,hits.hits._source';

/**
 * The query vector at unit length as JSON text, each component with the 9 significant digits that identify a float32
 * (Elasticsearch stores and compares float32), written straight from the input without an intermediate array.
 */
export function unitVectorJson(v: ArrayLike<number>): string {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  let json = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) json += ',';
    const x = norm > 0 ? v[i] / norm : 0;
    // toPrecision writes NaN and Infinity as words, which are not JSON.
    json += Number.isFinite(x) ? x.toPrecision(9) : 'null';
  }
  return `${json}]`;
}

const searchPath = (alias: string) => `/${encodeURIComponent(alias)}/_search?filter_path=${KNN_FILTER_PATH}`;

/** The kNN search of `alias` as one HTTP request: path (with the response filter) and JSON body. */
export function knnRequest(alias: string, q: KnnQuery): JsonRequest & { body: string } {
  return { method: 'POST', path: searchPath(alias), body: `{"knn":${knnJson(q, topN(q))},${pageJson(q)}}` };
}

/** The keyword (BM25) search of `alias` over KEYWORD_FIELDS, with the same filters, page and order. */
export function keywordRequest(alias: string, q: KeywordQuery): JsonRequest & { body: string } {
  return { method: 'POST', path: searchPath(alias), body: `{"query":${keywordQueryJson(q)},${pageJson(q)}}` };
}

export interface KnnResponse {
  /** Absent when nothing matched: the response filter leaves out an empty hit list. */
  hits?: { hits?: Array<{ _id: string; _score: number | null; _source: Omit<ImageDoc, 'vector'> }> };
}

/**
 * One request through a SearchConnection (the API's hot path) or the client, with the same errors; null when the
 * alias does not exist yet (nothing indexed). `check` may throw an error the answer carries inside (as _msearch does).
 */
export async function send<T>(
  es: Client | SearchConnection,
  what: string,
  req: JsonRequest,
  check: (answer: T) => T = (answer) => answer,
): Promise<T | null> {
  try {
    return await call(what, async () =>
      check(
        await (es instanceof SearchConnection
          ? es.request<T>(req)
          : es.transport.request<T>(req, { headers: { 'content-type': 'application/json' } })),
      ),
    );
  } catch (err) {
    if (errorType(err) === 'index_not_found_exception') return null;
    throw err;
  }
}

/**
 * The check for an _msearch answer (for `send`): _msearch answers 200 with each search's own error inside, raised here
 * as that search's error answer would be.
 */
export function msearchCheck<T extends { responses?: Array<{ error?: unknown; status?: number }> }>(
  req: JsonRequest,
): (answer: T) => T {
  return (answer) => {
    const failed = answer.responses?.find((r) => r.error);
    if (failed) throw responseError(req, failed.status ?? 500, { error: failed.error, status: failed.status });
    return answer;
  };
}

export const hitsOf = (res: KnnResponse | null): SearchHit[] =>
  (res?.hits?.hits ?? []).map((h) => ({ id: h._id, score: h._score ?? 0, doc: h._source }));

/** Nearest pictures first (or in date order); [] when nothing is indexed yet. */
export async function knnSearch(es: Client | SearchConnection, alias: string, q: KnnQuery): Promise<SearchHit[]> {
  return hitsOf(await send<KnnResponse>(es, 'knn search', knnRequest(alias, q)));
}

/** Best keyword matches first (or in date order); [] when nothing is indexed yet. */
export async function keywordSearch(
  es: Client | SearchConnection,
  alias: string,
  q: KeywordQuery,
): Promise<SearchHit[]> {
  return hitsOf(await send<KnnResponse>(es, 'keyword search', keywordRequest(alias, q)));
}

/** The stored (unit-length) vector of one document, or null when there is no such document or index. */
export async function getVector(client: Client, alias: string, id: string): Promise<number[] | null> {
  try {
    const res = await call('get vector', () =>
      client.get<{ vector?: number[] }>({ index: alias, id, _source_includes: ['vector'] }),
    );
    return res.found ? (res._source?.vector ?? null) : null;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}
