// The Elasticsearch every integration test gets is a real 8.x that indexes HNSW dense vectors and answers kNN.
import { afterAll, describe, expect, it } from 'vitest';

const host = (process.env.ES_HOST ?? 'http://127.0.0.1:9200').replace(/\/+$/, '');
const index = `test-elasticsearch-${Math.random().toString(36).slice(2, 10)}`;

async function es<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const isNdjson = typeof body === 'string';
  const res = await fetch(`${host}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': isNdjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : isNdjson ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

describe('local Elasticsearch', () => {
  afterAll(async () => {
    await es('DELETE', `/${index}?ignore_unavailable=true`);
  });

  it('reports an 8.x version on GET /', async () => {
    const { status, json } = await es<{ version: { number: string } }>('GET', '/');
    expect(status).toBe(200);
    expect(json.version.number).toMatch(/^8\./);
  });

  it('indexes HNSW dense vectors and returns the nearest neighbours in order', async () => {
    const created = await es('PUT', `/${index}`, {
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        properties: {
          name: { type: 'keyword' },
          vector: {
            type: 'dense_vector',
            dims: 4,
            index: true,
            similarity: 'cosine',
            index_options: { type: 'hnsw', m: 16, ef_construction: 100 },
          },
        },
      },
    });
    expect(created.status).toBe(200);

    const mapping = await es<Record<string, { mappings: { properties: { vector: { index_options: unknown } } } }>>(
      'GET',
      `/${index}/_mapping`,
    );
    expect(mapping.json[index].mappings.properties.vector.index_options).toMatchObject({ type: 'hnsw', m: 16 });

    const docs: Record<string, number[]> = {
      east: [1, 0, 0, 0],
      'east-north-east': [0.9, 0.3, 0, 0],
      'north-east': [0.6, 0.6, 0, 0],
      north: [0, 1, 0, 0],
      west: [-1, 0, 0, 0],
      up: [0, 0, 1, 0],
    };
    const bulk = Object.entries(docs)
      .flatMap(([name, vector]) => [JSON.stringify({ index: { _id: name } }), JSON.stringify({ name, vector })])
      .join('\n');
    const indexed = await es<{ errors: boolean }>('POST', `/${index}/_bulk?refresh=true`, `${bulk}\n`);
    expect(indexed.json.errors).toBe(false);

    const found = await es<{ hits: { hits: Array<{ _id: string; _score: number }> } }>('POST', `/${index}/_search`, {
      knn: { field: 'vector', query_vector: [1, 0.1, 0, 0], k: 3, num_candidates: 10 },
      _source: ['name'],
    });
    expect(found.status).toBe(200);
    const hits = found.json.hits.hits;
    expect(hits.map((h) => h._id)).toEqual(['east', 'east-north-east', 'north-east']);
    expect(hits[0]._score).toBeGreaterThan(hits[1]._score);
    expect(hits[1]._score).toBeGreaterThan(hits[2]._score);

    const deleted = await es('DELETE', `/${index}`);
    expect(deleted.status).toBe(200);
    expect((await es('HEAD', `/${index}`)).status).toBe(404);
  });
});
