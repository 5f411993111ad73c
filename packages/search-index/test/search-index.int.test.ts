// Against the real Elasticsearch from the global setup: each test uses its own alias and deletes what it made.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { errors } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aliasTargets,
  bulkWrite,
  createClient,
  EsUnavailableError,
  ensureModelIndex,
  existingIds,
  getVector,
  type ImageDoc,
  type IndexSpec,
  indexInfo,
  knnSearch,
  promoteIndex,
  rankingWindows,
  SearchConnection,
  waitForCluster,
} from '../src/index.ts';

const run = promisify(execFile);
const ES_HOST = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
const client = createClient({ ES_HOST });
const connection = new SearchConnection({ ES_HOST });
const made: string[] = [];

function uniqueSpec(over: Partial<IndexSpec> = {}): IndexSpec {
  const alias = `test-search-index-${randomBytes(4).toString('hex')}`;
  made.push(`${alias}*`);
  return {
    alias,
    model: 'tiny/synthetic',
    dims: 4,
    hnswM: 8,
    hnswEf: 32,
    vectorIndexType: 'hnsw',
    shards: 1,
    replicas: 0,
    ...over,
  };
}

function doc(path: string, vector: number[], model = 'tiny/synthetic'): ImageDoc {
  return {
    path,
    vector,
    file_name: path.split('/').pop()!,
    source_url: null,
    width: 10,
    height: 20,
    bytes: 123,
    content_type: 'image/png',
    model,
    indexed_at: new Date().toISOString(),
    thumbnail: null,
  };
}

afterAll(async () => {
  // The cluster refuses wildcard deletes, so resolve our patterns to names first.
  for (const pattern of made) {
    const names = Object.keys(await client.indices.get({ index: pattern, ignore_unavailable: true }));
    if (names.length > 0) await client.indices.delete({ index: names });
  }
  await connection.close();
  await client.close();
});

describe('search-index against a real Elasticsearch', () => {
  it('creates a per-model index, points the alias at it on the first run, and reports it', async () => {
    await waitForCluster(client, { timeoutMs: 60_000 });
    const spec = uniqueSpec();
    const first = await ensureModelIndex(client, spec);
    expect(first.created).toBe(true);
    expect(first.aliasPointsHere).toBe(true);
    expect(first.index.startsWith(`${spec.alias}-tiny-synthetic-`)).toBe(true);
    expect(await ensureModelIndex(client, spec)).toEqual({ ...first, created: false });

    const info = await indexInfo(client, spec.alias);
    expect(info).toMatchObject({
      concreteIndex: first.index,
      docCount: 0,
      model: 'tiny/synthetic',
      dims: 4,
      hnswM: 8,
      hnswEf: 32,
    });
    expect(info.esVersion).toMatch(/^8\./);
  });

  it('writes in bulk idempotently, finds ids in batches, searches by kNN and returns stored vectors', async () => {
    const spec = uniqueSpec();
    const { index } = await ensureModelIndex(client, spec);
    const docs = [
      { id: 'red', doc: doc('a/red.png', [1, 0, 0, 0]) },
      { id: 'green', doc: doc('green.png', [0, 2, 0, 0]) },
      { id: 'reddish', doc: doc('reddish.png', [0.9, 0.1, 0, 0]) },
    ];
    expect(await bulkWrite(client, index, docs)).toEqual({ ok: 3, failed: [] });
    // Writing the same documents again (a retry after a crash) must not double anything.
    expect(await bulkWrite(client, index, docs, { refresh: 'wait_for' })).toEqual({ ok: 3, failed: [] });
    expect((await indexInfo(client, spec.alias)).docCount).toBe(3);

    const ids = Array.from({ length: 2500 }, (_, i) => `missing-${i}`).concat(['red', 'green']);
    expect(await existingIds(client, index, ids)).toEqual(new Set(['red', 'green']));

    const hits = await knnSearch(client, spec.alias, { vector: [1, 0, 0, 0], k: 2, numCandidates: 10 });
    expect(hits.map((h) => h.id)).toEqual(['red', 'reddish']);
    expect(hits[0].score).toBeCloseTo(1, 5);
    expect(hits[0].doc).toMatchObject({ path: 'a/red.png', file_name: 'red.png', width: 10 });
    expect(hits[0].doc).not.toHaveProperty('vector');

    const similar = await knnSearch(client, spec.alias, {
      vector: [1, 0, 0, 0],
      k: 1,
      numCandidates: 10,
      excludeIds: ['red'],
    });
    expect(similar.map((h) => h.id)).toEqual(['reddish']);
    // The plain-HTTP path asks the same and answers the same.
    expect(await knnSearch(connection, spec.alias, { vector: [1, 0, 0, 0], k: 2, numCandidates: 10 })).toEqual(hits);
    expect(
      await knnSearch(connection, spec.alias, { vector: [1, 0, 0, 0], k: 1, numCandidates: 10, excludeIds: ['red'] }),
    ).toEqual(similar);

    expect(await getVector(client, spec.alias, 'green')).toEqual([0, 1, 0, 0]);
    expect(await getVector(client, spec.alias, 'nope')).toBeNull();

    const later = await bulkWrite(
      client,
      index,
      [
        { id: 'green', delete: true },
        { id: 'never-there', delete: true },
        { id: 'red', update: { path: 'b/red-copy.png' } },
        { id: 'bad', doc: doc('bad.png', [1, 0, 0]) },
      ],
      { refresh: 'wait_for' },
    );
    expect(later.ok).toBe(3);
    expect(later.failed).toHaveLength(1);
    expect(later.failed[0]).toMatchObject({ id: 'bad', status: 400 });
    const after = await knnSearch(client, spec.alias, { vector: [0, 1, 0, 0], k: 5, numCandidates: 10 });
    expect(after.map((h) => h.id).sort()).toEqual(['red', 'reddish']);
    expect(after.find((h) => h.id === 'red')?.doc.path).toBe('b/red-copy.png');
  });

  it('keeps serving the old model until the new model index is promoted, then switches atomically', async () => {
    const oldSpec = uniqueSpec({ vectorIndexType: 'int8_hnsw' });
    const old = await ensureModelIndex(client, oldSpec);
    await bulkWrite(client, old.index, [{ id: 'x', doc: doc('x.png', [1, 0, 0, 0]) }], { refresh: 'wait_for' });

    const newSpec: IndexSpec = { ...oldSpec, model: 'other/synthetic', dims: 3, vectorIndexType: 'hnsw' };
    const fresh = await ensureModelIndex(client, newSpec);
    expect(fresh.index).not.toBe(old.index);
    expect(fresh.created).toBe(true);
    expect(fresh.aliasPointsHere).toBe(false);
    expect(await aliasTargets(client, oldSpec.alias)).toEqual([old.index]);
    expect((await indexInfo(client, oldSpec.alias)).model).toBe('tiny/synthetic');

    await bulkWrite(client, fresh.index, [{ id: 'y', doc: doc('y.png', [0, 1, 0], 'other/synthetic') }], {
      refresh: 'wait_for',
    });
    await promoteIndex(client, newSpec, fresh.index);
    expect(await aliasTargets(client, oldSpec.alias)).toEqual([fresh.index]);
    const info = await indexInfo(client, oldSpec.alias);
    expect(info).toMatchObject({ model: 'other/synthetic', dims: 3, docCount: 1 });
    // The old model's documents are still there, untouched, in their own index.
    expect((await client.count({ index: old.index })).count).toBe(1);
  });

  it('answers an alias with nothing behind it with no hits, and an unreachable cluster with EsUnavailableError', async () => {
    expect(
      await knnSearch(client, `test-search-index-none-${randomBytes(4).toString('hex')}`, {
        vector: [1, 0],
        k: 3,
        numCandidates: 3,
      }),
    ).toEqual([]);
    const dead = createClient({ ES_HOST: 'http://127.0.0.1:9' });
    await expect(knnSearch(dead, 'images', { vector: [1, 0], k: 1, numCandidates: 1 })).rejects.toBeInstanceOf(
      EsUnavailableError,
    );
    await expect(waitForCluster(dead, { timeoutMs: 300 })).rejects.toBeInstanceOf(EsUnavailableError);
    await dead.close();

    const none = `test-search-index-none-${randomBytes(4).toString('hex')}`;
    expect(await knnSearch(connection, none, { vector: [1, 0], k: 3, numCandidates: 3 })).toEqual([]);
    const deadConnection = new SearchConnection({ ES_HOST: 'http://127.0.0.1:9' });
    await expect(
      knnSearch(deadConnection, 'images', { vector: [1, 0], k: 1, numCandidates: 1 }),
    ).rejects.toBeInstanceOf(EsUnavailableError);
    await deadConnection.close();
  });

  it('reports a query the index refuses as the same error through the client and over plain HTTP', async () => {
    const spec = uniqueSpec();
    const { index } = await ensureModelIndex(client, spec);
    await bulkWrite(client, index, [{ id: 'x', doc: doc('x.png', [1, 0, 0, 0]) }], { refresh: 'wait_for' });
    const wrongDims = { vector: [1, 0], k: 1, numCandidates: 1 };
    const viaClient = await knnSearch(client, spec.alias, wrongDims).catch((err: unknown) => err);
    const viaHttp = await knnSearch(connection, spec.alias, wrongDims).catch((err: unknown) => err);
    for (const err of [viaClient, viaHttp]) {
      expect(err).toBeInstanceOf(errors.ResponseError);
      expect(err).not.toBeInstanceOf(EsUnavailableError);
      expect((err as errors.ResponseError).meta.statusCode).toBe(400);
      expect((err as errors.ResponseError).body.error.root_cause[0].reason).toMatch(
        /different (number of dimensions|dimension) \[2\]/,
      );
    }
    expect((viaHttp as Error).message).toBe((viaClient as Error).message);
    // Hybrid's two searches travel in one _msearch, which answers 200 with the refusal inside: raised the same way.
    const windows = { knn: wrongDims, keyword: { text: 'x', k: 1 }, size: 1 };
    const viaWindows = await rankingWindows(connection, spec.alias, windows).catch((err: unknown) => err);
    expect(viaWindows).toBeInstanceOf(errors.ResponseError);
    expect((viaWindows as errors.ResponseError).meta.statusCode).toBe(400);
    expect(await rankingWindows(connection, `${spec.alias}-none`, windows)).toEqual([[], []]);
  });
});

describe('a search connection', () => {
  // A stand-in HTTP server, to see what is sent (the local cluster has no security to check credentials against).
  async function recordingServer(answer: (res: http.ServerResponse) => void) {
    const seen: http.IncomingHttpHeaders[] = [];
    const urls: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      urls.push(req.url ?? '');
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const close = () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    };
    return { port, seen, urls, close };
  }

  it('sends the credentials and path prefix of ES_HOST and the settings', async () => {
    const server = await recordingServer((res) => res.setHeader('content-type', 'application/json').end('{}'));
    const conn = new SearchConnection({ ES_HOST: `http://127.0.0.1:${server.port}/es/`, ES_API_KEY: 'secret' });
    try {
      expect(await knnSearch(conn, 'images', { vector: [1, 0], k: 1, numCandidates: 1 })).toEqual([]);
      expect(server.urls[0]).toMatch(/^\/es\/images\/_search\?filter_path=/);
      expect(server.seen[0]).toMatchObject({ authorization: 'ApiKey secret', 'content-type': 'application/json' });
    } finally {
      await conn.close();
      await server.close();
    }
  });

  it('trusts the cluster certificate ES_CA_CERT names, and no other', async (ctx) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'search-connection-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    try {
      try {
        await run('openssl', [
          ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1'],
          ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
        ]);
      } catch (err) {
        ctx.skip(`needs the openssl command to make a test certificate (${(err as Error).message.split('\n')[0]})`);
      }
      const server = https.createServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
        req.resume();
        req.on('end', () => res.setHeader('content-type', 'application/json').end('{}'));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const host = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const trusting = new SearchConnection({ ES_HOST: host, ES_CA_CERT: cert });
      const stranger = new SearchConnection({ ES_HOST: host });
      try {
        const q = { vector: [1, 0], k: 1, numCandidates: 1 };
        expect(await knnSearch(trusting, 'images', q)).toEqual([]);
        await expect(knnSearch(stranger, 'images', q)).rejects.toBeInstanceOf(EsUnavailableError);
      } finally {
        await trusting.close();
        await stranger.close();
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts a cluster that does not answer in time as unavailable', async () => {
    const server = await recordingServer(() => {});
    const conn = new SearchConnection({ ES_HOST: `http://127.0.0.1:${server.port}` }, { timeoutMs: 200 });
    try {
      const err = await knnSearch(conn, 'images', { vector: [1, 0], k: 1, numCandidates: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EsUnavailableError);
      expect((err as Error).message).toMatch(/timed out/i);
    } finally {
      await conn.close();
      await server.close();
    }
  });
});
