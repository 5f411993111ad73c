// How the API asks Elasticsearch for nearest pictures: HNSW candidates and, for a quantised index, rescoring.
import type { SearchApiConfig, VectorIndexType } from '@image-search/config';
import { isQuantized } from '@image-search/search-index';

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
  return {
    numCandidates: Math.max(config.NUM_CANDIDATES, config.MAX_K),
    rescoreOversample: isQuantized(type) ? config.RESCORE_OVERSAMPLE : undefined,
  };
}
