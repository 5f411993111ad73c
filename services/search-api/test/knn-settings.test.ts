// What the API asks Elasticsearch for: enough HNSW candidates for each index type's recall, and rescoring only where
// there are quantised vectors to rescore.
import { loadSearchApiConfig } from '@image-search/config';
import { describe, expect, it } from 'vitest';
import { knnSettings } from '../src/knn-settings.ts';

describe('knnSettings', () => {
  it('widens the walk for quantised HNSW types by default, and rescores only quantised types', () => {
    const of = (VECTOR_INDEX_TYPE: string) => knnSettings(loadSearchApiConfig({ VECTOR_INDEX_TYPE }));
    expect(of('hnsw')).toEqual({ numCandidates: 100, rescoreOversample: undefined });
    expect(of('int8_hnsw')).toEqual({ numCandidates: 400, rescoreOversample: 3 });
    expect(of('bbq_hnsw')).toEqual({ numCandidates: 400, rescoreOversample: 3 });
    expect(of('int4_flat')).toEqual({ numCandidates: 100, rescoreOversample: 3 });
  });

  it('takes NUM_CANDIDATES as set, but never below MAX_K', () => {
    const config = loadSearchApiConfig({ VECTOR_INDEX_TYPE: 'bbq_hnsw', NUM_CANDIDATES: '150', MAX_K: '60' });
    expect(knnSettings(config).numCandidates).toBe(150);
    expect(knnSettings({ ...config, MAX_K: 500 }).numCandidates).toBe(500);
    expect(knnSettings({ ...config, RESCORE_OVERSAMPLE: 0 }).rescoreOversample).toBe(0);
  });
});
