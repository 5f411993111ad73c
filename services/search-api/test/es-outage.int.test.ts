// Elasticsearch stops under a running API: searches answer 503 with Retry-After; it starts again: the same API
// answers 200 without a restart. Uses a PRIVATE node on port 9270 (the shared node on 9200 is never touched).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Hit } from '@image-search/api-contract';
import { type LocalEs, startLocalElasticsearch } from '@image-search/local-elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from './fixture.ts';

const PORT = 9270;
let dataDir: string;
let es: LocalEs | undefined;
let f: Fixture | undefined;

async function startPrivateNode(): Promise<LocalEs> {
  const node = await startLocalElasticsearch({ port: PORT, dataDir, heap: '512m' });
  if (!node.startedByUs) {
    await node.stop();
    throw new Error(`something already answers on port ${PORT}; this test needs that port for its own node`);
  }
  return node;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'search-api-es-outage-'));
  es = await startPrivateNode();
  f = await startFixture({ esHost: es.host });
}, 300_000);

afterAll(async () => {
  // The index lives in the private node's data folder, deleted with it.
  await f?.close().catch(() => {});
  await es?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 120_000);

const search = () => fetch(`${f!.base}/search/text?q=red&k=3`);

describe('Elasticsearch outage', () => {
  it('answers 503 with Retry-After while Elasticsearch is down and recovers without a restart', async () => {
    const before = await search();
    expect(before.status).toBe(200);
    const hitsBefore = (await before.json()) as Hit[];
    expect(hitsBefore).toHaveLength(3);

    await es!.stop();
    es = undefined;
    for (const res of [await search(), await fetch(`${f!.base}/search/similar/${hitsBefore[0].id}`)]) {
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toEqual({
        error: 'unavailable',
        message: 'Elasticsearch is unreachable; try again shortly',
      });
    }
    const ready = await fetch(`${f!.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { elasticsearch: boolean } }).checks.elasticsearch).toBe(false);
    expect((await fetch(`${f!.base}/healthz`)).status).toBe(200);

    es = await startPrivateNode();
    // The shard may take a moment to recover after the cluster is yellow; meanwhile a 503 is the right answer.
    let after = await search();
    for (let i = 0; i < 60 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await search();
    }
    expect(after.status).toBe(200);
    expect(((await after.json()) as Hit[]).map((h) => h.id)).toEqual(hitsBefore.map((h) => h.id));
    expect((await fetch(`${f!.base}/readyz`)).status).toBe(200);
  }, 300_000);
});
