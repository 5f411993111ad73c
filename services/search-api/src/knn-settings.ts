// How the API asks Elasticsearch for nearest pictures: HNSW candidates and, for a quantised index, rescoring.
import type { SearchApiConfig, VectorIndexType } from '@image-search/config';
import { isQuantized } from '@image-search/search-index';

/**
 * NUM_CANDIDATES=auto per index type. Quantised HNSW types rank the graph's candidates by coarse vectors before
 * rescoring, so they need a wider walk: at 100,000 RN50-shaped vectors (bench/vector-types.ts), text-like queries
 * with rescore ×3 found 0.952 (int8_hnsw) and 0.936 (bbq_hnsw) of the true top 10 with 100 candidates, 0.996 and
 * 0.995 with 400 (targets 0.98 and 0.95), for about 1.4× (int8) and 1.9× (bbq) the kNN time. Flat types are exhaustive.
 */
const AUTO_CANDIDATES: Record<VectorIndexType, number> = {
  hnsw: 100,
  int8_hnsw: 400,
  int4_hnsw: 400,
  bbq_hnsw: 400,
  flat: 100,
  int8_flat: 100,
  int4_flat: 100,
  bbq_flat: 100,
};

export interface KnnSettings {
  /** HNSW candidates per shard: at least MAX_K, so every page up to MAX_K comes from the same candidates. */
  numCandidates: number;
  /** k × this many quantised hits re-ranked by their float vectors; absent for float vectors. */
  rescoreOversample?: number;
}

export function knnSettings(
  config: Pick<SearchApiConfig, 'NUM_CANDIDATES' | 'MAX_K' | 'RESCORE_OVERSAMPLE' | 'VECTOR_INDEX_TYPE'>,
  type: VectorIndexType = config.VECTOR_INDEX_TYPE,
): KnnSettings {
  const candidates = config.NUM_CANDIDATES === 'auto' ? AUTO_CANDIDATES[type] : config.NUM_CANDIDATES;
  return {
    numCandidates: Math.max(candidates, config.MAX_K),
    rescoreOversample: isQuantized(type) ? config.RESCORE_OVERSAMPLE : undefined,
  };
}
