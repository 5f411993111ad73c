// Reading the index: approximate kNN search and a document's stored vector.
import type { Client } from '@elastic/elasticsearch';
import { call, errorType, statusOf } from './errors.ts';
import { type ImageDoc, toUnitVector } from './mapping.ts';

export interface SearchHit {
  id: string;
  score: number;
  doc: Omit<ImageDoc, 'vector'>;
}

export interface KnnQuery {
  vector: number[] | Float32Array;
  k: number;
  /** HNSW candidates per shard; raised to k when smaller. */
  numCandidates: number;
  /** Leave this document out (e.g. the picture a "more like this" search started from). */
  excludeId?: string;
}

export function knnRequest(alias: string, q: KnnQuery) {
  const k = Math.max(1, Math.floor(q.k));
  return {
    index: alias,
    size: k,
    knn: {
      field: 'vector',
      query_vector: toUnitVector(q.vector),
      k,
      num_candidates: Math.max(k, Math.floor(q.numCandidates)),
      ...(q.excludeId ? { filter: { bool: { must_not: [{ ids: { values: [q.excludeId] } }] } } } : {}),
    },
    _source: { excludes: ['vector'] },
  };
}

/** Nearest pictures first; [] when the alias does not exist yet (nothing indexed). */
export async function knnSearch(client: Client, alias: string, q: KnnQuery): Promise<SearchHit[]> {
  try {
    const res = await call('knn search', () => client.search<Omit<ImageDoc, 'vector'>>(knnRequest(alias, q)));
    return res.hits.hits.map((h) => ({ id: h._id!, score: h._score ?? 0, doc: h._source! }));
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
