import { describe, expect, it } from 'vitest';
import {
  clientOptions,
  concreteIndexName,
  EsUnavailableError,
  type IndexSpec,
  indexBody,
  isUnavailable,
  knnRequest,
  modelSlug,
  toUnitVector,
} from '../src/index.ts';

const spec: IndexSpec = {
  alias: 'images',
  model: 'RN50/openai',
  dims: 1024,
  hnswM: 16,
  hnswEf: 512,
  vectorIndexType: 'hnsw',
  shards: 1,
  replicas: 0,
};

describe('index naming', () => {
  it('names the concrete index after the alias, the model and a hash of the settings', () => {
    expect(modelSlug('ViT-B-32/laion2b_s34b_b79k')).toBe('vit-b-32-laion2b-s34b-b79k');
    expect(concreteIndexName(spec)).toMatch(/^images-rn50-openai-[0-9a-f]{8}$/);
  });

  it('gives a new model, a new dimension or new HNSW settings a new index, but not a new replica count', () => {
    const base = concreteIndexName(spec);
    expect(concreteIndexName({ ...spec, model: 'ViT-B-32/openai', dims: 512 })).not.toBe(base);
    expect(concreteIndexName({ ...spec, hnswM: 32 })).not.toBe(base);
    expect(concreteIndexName({ ...spec, vectorIndexType: 'int8_hnsw' })).not.toBe(base);
    expect(concreteIndexName({ ...spec, replicas: 1 })).toBe(base);
  });
});

describe('index body', () => {
  it('maps the vector as an HNSW dense_vector with the configured settings and records the model in _meta', () => {
    const body = indexBody({ ...spec, vectorIndexType: 'int8_hnsw', shards: 2, replicas: 1 }, new Date(0));
    expect(body.settings).toEqual({ number_of_shards: 2, number_of_replicas: 1 });
    expect(body.mappings.properties.path).toEqual({ type: 'keyword' });
    expect(body.mappings.properties.vector).toEqual({
      type: 'dense_vector',
      dims: 1024,
      index: true,
      similarity: 'dot_product',
      index_options: { type: 'int8_hnsw', m: 16, ef_construction: 512 },
    });
    expect(body.mappings._meta).toMatchObject({
      model: 'RN50/openai',
      dims: 1024,
      created_at: '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('vectors and queries', () => {
  it('normalises vectors to unit length', () => {
    const v = toUnitVector(new Float32Array([3, 4]));
    expect(v).toEqual([0.6, 0.8]);
    const sq = toUnitVector([0.1, 0.2, 0.3]).reduce((s, x) => s + x * x, 0);
    expect(Math.abs(sq - 1)).toBeLessThan(1e-6);
  });

  it('asks for at least k candidates, leaves out the excluded id and never returns the vector', () => {
    const req = knnRequest('images', { vector: [1, 0], k: 20, numCandidates: 5, excludeId: 'abc' });
    expect(req.knn.num_candidates).toBe(20);
    expect(req.knn.filter).toEqual({ bool: { must_not: [{ ids: { values: ['abc'] } }] } });
    expect(req._source).toEqual({ excludes: ['vector'] });
    expect(knnRequest('images', { vector: [1, 0], k: 5, numCandidates: 100 }).knn).not.toHaveProperty('filter');
  });
});

describe('client options', () => {
  it('prefers an API key, falls back to user and password', () => {
    expect(clientOptions({ ES_HOST: 'http://x:9200', ES_API_KEY: 'k', ES_USERNAME: 'u' }).auth).toEqual({
      apiKey: 'k',
    });
    expect(clientOptions({ ES_HOST: 'http://x:9200', ES_USERNAME: 'u', ES_PASSWORD: 'p' }).auth).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(clientOptions({ ES_HOST: 'http://x:9200' }).auth).toBeUndefined();
  });

  it('recognises its own unavailable error', () => {
    expect(isUnavailable(new EsUnavailableError('down'))).toBe(true);
    expect(isUnavailable(new Error('bug'))).toBe(false);
  });
});
