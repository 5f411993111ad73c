import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  clientOptions,
  concreteIndexName,
  EsUnavailableError,
  type IndexSpec,
  indexBody,
  isQuantized,
  isUnavailable,
  knnRequest,
  modelSlug,
  toUnitVector,
  unitVectorJson,
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

  it('gives HNSW types their graph settings and flat types none', () => {
    const optionsOf = (vectorIndexType: IndexSpec['vectorIndexType']) =>
      indexBody({ ...spec, vectorIndexType }).mappings.properties.vector.index_options;
    expect(optionsOf('bbq_hnsw')).toEqual({ type: 'bbq_hnsw', m: 16, ef_construction: 512 });
    expect(optionsOf('int4_hnsw')).toEqual({ type: 'int4_hnsw', m: 16, ef_construction: 512 });
    expect(optionsOf('int8_flat')).toEqual({ type: 'int8_flat' });
    expect(optionsOf('flat')).toEqual({ type: 'flat' });
    expect(['hnsw', 'flat', 'int8_hnsw', 'int4_flat', 'bbq_hnsw'].map((t) => isQuantized(t as 'hnsw'))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});

describe('vectors and queries', () => {
  it('normalises vectors to unit length', () => {
    const v = toUnitVector(new Float32Array([3, 4]));
    expect(v).toEqual([0.6, 0.8]);
    const sq = toUnitVector([0.1, 0.2, 0.3]).reduce((s, x) => s + x * x, 0);
    expect(Math.abs(sq - 1)).toBeLessThan(1e-6);
  });

  it('writes the query vector at unit length with the digits a float32 needs', () => {
    expect(JSON.parse(unitVectorJson(new Float32Array([3, 4])))).toEqual([0.6, 0.8]);
    const v = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.7) * (i % 7 === 0 ? 1e-5 : 1));
    const written = JSON.parse(unitVectorJson(v)) as number[];
    const unit = toUnitVector(v);
    expect(written).toHaveLength(512);
    // Elasticsearch keeps float32: at most one float32 rounding step away from the stored vectors' own rounding.
    const ulp = (x: number) => Math.abs(Math.fround(x) - Math.fround(x * (1 + 2 ** -23))) || 2 ** -149;
    for (const [i, x] of written.entries())
      expect(Math.abs(Math.fround(x) - Math.fround(unit[i]))).toBeLessThanOrEqual(ulp(x));
    expect(JSON.parse(unitVectorJson([0, 0]))).toEqual([0, 0]);
    // As toUnitVector: no direction, zeros; a component that cannot be written is null, still JSON.
    expect(JSON.parse(unitVectorJson([Number.NaN, 1]))).toEqual(toUnitVector([Number.NaN, 1]));
    expect(JSON.parse(unitVectorJson([Number.POSITIVE_INFINITY, 1]))).toEqual([null, 0]);
  });

  it('asks for at least k candidates, leaves out the excluded id and never returns the vector', () => {
    const req = knnRequest('images', { vector: [1, 0], k: 20, numCandidates: 5, excludeIds: ['abc'] });
    const body = JSON.parse(req.body);
    expect(body.size).toBe(20);
    expect(body.knn).toMatchObject({ field: 'vector', query_vector: [1, 0], k: 20, num_candidates: 20 });
    expect(body.knn.filter).toEqual({ bool: { filter: [], must_not: [{ ids: { values: ['abc'] } }] } });
    expect(body._source).toEqual({ excludes: ['vector'] });
    expect(JSON.parse(knnRequest('images', { vector: [1, 0], k: 5, numCandidates: 100 }).body).knn).not.toHaveProperty(
      'filter',
    );
  });

  it('asks a quantised index to re-rank oversampled hits by their float vectors, and leaves others to the default', () => {
    const knn = (rescoreOversample?: number) =>
      JSON.parse(knnRequest('images', { vector: [1, 0], k: 5, numCandidates: 100, rescoreOversample }).body).knn;
    expect(knn(3).rescore_vector).toEqual({ oversample: 3 });
    expect(knn(0).rescore_vector).toEqual({ oversample: 0 });
    expect(knn()).not.toHaveProperty('rescore_vector');
  });

  it('searches the alias and asks only for the fields a hit needs', () => {
    const { method, path } = knnRequest('images', { vector: [1, 0], k: 5, numCandidates: 100 });
    expect(method).toBe('POST');
    expect(path).toBe('/images/_search?filter_path=hits.hits._id,hits.hits._score,hits.hits._source');
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

  it('sends the same credentials over plain HTTP as the client', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(authorizationHeader({ ES_HOST: 'http://x:9200', ES_API_KEY: 'k', ES_USERNAME: 'u' })).toBe('ApiKey k');
    expect(authorizationHeader({ ES_HOST: 'http://x:9200', ES_USERNAME: 'u', ES_PASSWORD: 'p' })).toBe(
      `Basic ${b64('u:p')}`,
    );
    expect(authorizationHeader({ ES_HOST: 'https://el%40stic:p%3Aw@x:9200' })).toBe(`Basic ${b64('el@stic:p:w')}`);
    expect(authorizationHeader({ ES_HOST: 'http://x:9200' })).toBeUndefined();
  });

  it('recognises its own unavailable error', () => {
    expect(isUnavailable(new EsUnavailableError('down'))).toBe(true);
    expect(isUnavailable(new Error('bug'))).toBe(false);
  });
});
