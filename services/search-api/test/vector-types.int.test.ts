// Every VECTOR_INDEX_TYPE, end to end: the fixture's pictures copied into an index of that type, the API querying it
// (with rescoring for the quantised ones), and "red" still finding the red pictures first.

import type { Hit } from '@image-search/api-contract';
import { VECTOR_INDEX_TYPES } from '@image-search/config';
import { bulkWrite, ensureModelIndex, type ImageDoc } from '@image-search/search-index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/server.ts';
import { type Fixture, startFixture } from './fixture.ts';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('vector index types', () => {
  it.each(VECTOR_INDEX_TYPES)('finds the red pictures first in a %s index', async (type) => {
    const alias = `${f.alias}-${type}`;
    const { index } = await ensureModelIndex(f.es, {
      alias,
      model: 'tiny/synthetic',
      dims: f.model.manifest.embedDim,
      hnswM: 8,
      hnswEf: 64,
      vectorIndexType: type,
      shards: 1,
      replicas: 0,
    });
    const api = await buildServer({
      config: { ...f.config, ES_INDEX: alias, VECTOR_INDEX_TYPE: type, RESCORE_OVERSAMPLE: 2 },
      model: f.model,
      es: f.es,
    });
    try {
      const docs = await f.es.search<ImageDoc>({ index: f.alias, size: f.pictures.length });
      const copies = docs.hits.hits.map((h) => ({ id: h._id as string, doc: h._source as ImageDoc }));
      expect((await bulkWrite(f.es, index, copies, { refresh: 'wait_for' })).ok).toBe(f.pictures.length);
      const mapping = await f.es.indices.getMapping({ index });
      expect(mapping[index].mappings.properties?.vector).toMatchObject({ index_options: { type } });

      const res = await api.app.inject({ url: '/search/text?q=red&k=3' });
      expect(res.statusCode).toBe(200);
      const colours = res.json<Hit[]>().map((h) => f.pictures.find((p) => p.id === h.id)?.colour);
      expect(colours).toEqual(['red', 'red', 'red']);
    } finally {
      await api.app.close();
      await f.es.indices.delete({ index });
    }
  });
});
