// Reading the index: approximate kNN search and a document's stored vector.
import type { Client } from '@elastic/elasticsearch';
import { call, errorType, statusOf } from './errors.ts';
import type { ImageDoc } from './mapping.ts';
import { type JsonRequest, SearchConnection } from './search-connection.ts';

export interface SearchHit {
  id: string;
  score: number;
  doc: Omit<ImageDoc, 'vector'>;
}

export interface KnnQuery {
  vector: ArrayLike<number>;
  k: number;
  /** HNSW candidates per shard; raised to k when smaller. */
  numCandidates: number;
  /** Leave this document out (e.g. the picture a "more like this" search started from). */
  excludeId?: string;
  /**
   * For a quantised index: take k × this many hits from the quantised graph and re-rank them by their float vectors
   * (kNN rescore_vector; 0 turns off even an index's default). Absent: Elasticsearch's default for the index.
   */
  rescoreOversample?: number;
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

/** The kNN search of `alias` as one HTTP request: path (with the response filter) and JSON body. */
export function knnRequest(alias: string, q: KnnQuery): JsonRequest & { body: string } {
  const k = Math.max(1, Math.floor(q.k));
  const numCandidates = Math.max(k, Math.floor(q.numCandidates));
  const filter = q.excludeId
    ? `,"filter":${JSON.stringify({ bool: { must_not: [{ ids: { values: [q.excludeId] } }] } })}`
    : '';
  const rescore =
    q.rescoreOversample === undefined ? '' : `,"rescore_vector":{"oversample":${Number(q.rescoreOversample)}}`;
  return {
    method: 'POST',
    path: `/${encodeURIComponent(alias)}/_search?filter_path=${KNN_FILTER_PATH}`,
    body:
      `{"size":${k},"knn":{"field":"vector","query_vector":${unitVectorJson(q.vector)},"k":${k},` +
      `"num_candidates":${numCandidates}${filter}${rescore}},"_source":{"excludes":["vector"]}}`,
  };
}

interface KnnResponse {
  /** Absent when nothing matched: the response filter leaves out an empty hit list. */
  hits?: { hits?: Array<{ _id: string; _score: number | null; _source: Omit<ImageDoc, 'vector'> }> };
}

/**
 * Nearest pictures first; [] when the alias does not exist yet (nothing indexed). Through a SearchConnection (the
 * API's hot path) or the client, with the same request and the same errors.
 */
export async function knnSearch(es: Client | SearchConnection, alias: string, q: KnnQuery): Promise<SearchHit[]> {
  const req = knnRequest(alias, q);
  try {
    const res = await call('knn search', () =>
      es instanceof SearchConnection
        ? es.request<KnnResponse>(req)
        : es.transport.request<KnnResponse>(req, { headers: { 'content-type': 'application/json' } }),
    );
    return (res.hits?.hits ?? []).map((h) => ({ id: h._id, score: h._score ?? 0, doc: h._source }));
  } catch (err) {
    if (errorType(err) === 'index_not_found_exception') return [];
    throw err;
  }
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
