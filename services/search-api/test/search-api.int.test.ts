// The API over real Elasticsearch and the tiny synthetic model, with generated colour pictures (see fixture.ts).
import type { Hit } from '@image-search/api-contract';
import { createLogger } from '@image-search/log';
import { createClient } from '@image-search/search-index';
import { PicturePublisher, QueueCounter } from '@image-search/work-queue';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedBroker, testQueueName } from '../../../test/rabbitmq.ts';
import { buildServer } from '../src/server.ts';
import { COLOURS, colourPicture, type Fixture, startFixture } from './fixture.ts';
import { rawRequest } from './http.ts';
import { stubModel } from './stub-server.ts';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.close();
});

const colourOf = (hit: Hit) => f.pictures.find((p) => p.id === hit.id)?.colour;

async function getJson<T>(path: string, init?: RequestInit): Promise<{ res: Response; body: T }> {
  const res = await fetch(f.base + path, init);
  return { res, body: (await res.json()) as T };
}

describe('text search', () => {
  it('ranks red pictures first for "red" through GET', async () => {
    const { res, body } = await getJson<Hit[]>('/search/text?q=red&k=5');
    expect(res.status).toBe(200);
    expect(body).toHaveLength(5);
    expect(body.slice(0, 3).map(colourOf)).toEqual(['red', 'red', 'red']);
    expect(body[0].score).toBeGreaterThanOrEqual(body[4].score);
  });

  it('ranks red pictures first for "red" through POST {"text", "k"}', async () => {
    const { res, body } = await getJson<Hit[]>('/search/text', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'a red picture', k: 3 }),
    });
    expect(res.status).toBe(200);
    expect(body.map(colourOf)).toEqual(['red', 'red', 'red']);
  });

  it.each(Object.keys(COLOURS).filter((c) => c !== 'red'))('finds %s pictures for "%s"', async (colour) => {
    const { body } = await getJson<Hit[]>(`/search/text?q=${colour}&k=3`);
    expect(body.map(colourOf)).toEqual([colour, colour, colour]);
  });

  it('defaults k to TOP_K and returns hits with links that resolve', async () => {
    const { body } = await getJson<Hit[]>('/search/text?q=green');
    expect(body).toHaveLength(10);
    const hit = body[0];
    expect(Object.keys(hit).sort()).toEqual(
      [
        ...['file_name', 'height', 'id', 'score', 'source_url', 'thumbnail_url', 'url', 'width'],
        ...['taken_at', 'added_at', 'folder', 'format', 'source_host'],
      ].sort(),
    );
    expect(hit.url).toMatch(/^\/images\/(sub\/)?green-\d\.(jpg|png)$/);
    expect(hit.source_url).toMatch(/^https:\/\/example\.com\//);
    expect([hit.width, hit.height]).toEqual([48, 32]);
    const image = await fetch(f.base + hit.url);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\/(jpeg|png)$/);
    const thumb = await fetch(f.base + hit.thumbnail_url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
  });

  it('shows embed and kNN time in Server-Timing, and a cache hit for a repeated query', async () => {
    const q = `yellow ${Date.now()}`;
    const first = await fetch(`${f.base}/search/text?q=${encodeURIComponent(q)}&k=2`);
    expect(first.headers.get('server-timing')).toMatch(/cache;desc=miss.*embed;dur=[\d.]+.*knn;dur=[\d.]+/);
    const again = await fetch(`${f.base}/search/text?q=${encodeURIComponent(q.toUpperCase())}&k=2`);
    expect(again.headers.get('server-timing')).toMatch(/cache;desc=hit.*knn;dur=/);
    expect(await again.json()).toEqual(await first.json());
  });
});

describe('picture search', () => {
  it('finds red pictures for an uploaded red picture (multipart "file")', async () => {
    const form = new FormData();
    const upload = await colourPicture([210, 20, 30], 'jpeg', 999, { width: 60, height: 40 });
    form.append('file', new Blob([new Uint8Array(upload)], { type: 'application/octet-stream' }), 'query.bin');
    const { res, body } = await getJson<Hit[]>('/search/image?k=3', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(body.map(colourOf)).toEqual(['red', 'red', 'red']);
    expect(res.headers.get('server-timing')).toMatch(/decode;dur=.*embed;dur=.*knn;dur=/);
  });

  it('refuses what the model worker cannot decode with the caller-facing 4xx, and goes on serving', async () => {
    const png = await colourPicture([200, 0, 0], 'png', 2);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
    // 1100 × 1000 of one colour: a small file over MAX_IMAGE_PIXELS (1,000,000 here).
    const bomb = await sharp({ create: { width: 1100, height: 1000, channels: 3, background: '#00c800' } })
      .png()
      .toBuffer();
    const cases: Array<[Buffer, number, string, RegExp]> = [
      [broken, 400, 'bad_request', /^file: the picture could not be decoded/],
      [bomb, 413, 'payload_too_large', /^file: the picture has too many pixels \(limit 1000000\)/],
      [Buffer.from('GIF89a but not really a picture'), 400, 'bad_request', /could not be decoded/],
      [Buffer.from('plain text, not a picture'), 415, 'unsupported_media_type', /not a picture/],
    ];
    for (const [bytes, status, error, message] of cases) {
      const { res, body } = await getJson<{ error: string; message: string }>('/search/image', {
        method: 'POST',
        headers: { 'Content-Type': 'image/png' },
        body: new Uint8Array(bytes),
      });
      expect(res.status).toBe(status);
      expect(body.error).toBe(error);
      expect(body.message).toMatch(message);
    }
    const { res } = await getJson<Hit[]>('/search/image?k=1', {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: new Uint8Array(png),
    });
    expect(res.status).toBe(200);
  });

  it('accepts the bare picture as the body', async () => {
    const upload = await colourPicture([30, 40, 230], 'png', 998);
    const { res, body } = await getJson<Hit[]>('/search/image?k=3', {
      method: 'POST',
      headers: { 'Content-Type': 'image/png' },
      body: new Uint8Array(upload),
    });
    expect(res.status).toBe(200);
    expect(body.map(colourOf)).toEqual(['blue', 'blue', 'blue']);
  });
});

describe('similar pictures', () => {
  it('finds pictures like an indexed one, leaving it out', async () => {
    const start = f.pictures.find((p) => p.colour === 'green')!;
    const { res, body } = await getJson<Hit[]>(`/search/similar/${start.id}?k=2`);
    expect(res.status).toBe(200);
    expect(body.map(colourOf)).toEqual(['green', 'green']);
    expect(body.map((h) => h.id)).not.toContain(start.id);
  });

  it('answers 404 for an id that is not indexed', async () => {
    const { res, body } = await getJson<{ error: string; message: string }>(`/search/similar/${'0'.repeat(64)}`);
    expect(res.status).toBe(404);
    expect(body).toEqual({ error: 'not_found', message: `id: no indexed picture has id ${'0'.repeat(64)}` });
  });
});

describe('meta and health', () => {
  it('describes the model, index and cluster', async () => {
    const { res, body } = await getJson<Record<string, unknown>>('/meta');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({
      vector_dim: f.model.manifest.embedDim,
      es_index: f.alias,
      doc_count: f.pictures.length,
      hnsw_m: 8,
      hnsw_ef: 64,
      model_dir: f.model.dir,
      synthetic: true,
      exported_with: null,
      provider: 'cpu',
      device: 'auto',
      work_queue: null,
    });
    expect(String(body.concrete_index)).toMatch(new RegExp(`^${f.alias}-`));
    for (const key of ['model_name', 'es_version', 'cluster', 'cluster_status'])
      expect(typeof body[key]).toBe('string');
  });

  it('counts the pictures waiting in the work queue and those that failed', async () => {
    const logger = createLogger('meta-test', { level: 'silent' });
    const queue = { url: await sharedBroker(), name: testQueueName('meta'), maxAttempts: 3 };
    const publisher = await PicturePublisher.open(queue, logger);
    const counter = await QueueCounter.open(queue, logger);
    const es = createClient({ ES_HOST: f.config.ES_HOST });
    const { app } = await buildServer({ config: f.config, model: f.model, es, queueCounts: () => counter.counts() });
    try {
      for (const i of [1, 2]) {
        await publisher.publish({ contentId: String(i).repeat(64), file: `${i}.png`, sourceUrl: null });
      }
      const meta = await app.inject({ url: '/meta' });
      expect(meta.json()).toMatchObject({ doc_count: f.pictures.length, work_queue: { queued: 2, failed: 0 } });
    } finally {
      await app.close();
      await es.close();
      await publisher.close();
      await counter.close();
    }
  });

  it('is ready with the index present', async () => {
    const { res, body } = await getJson<{ status: string }>('/readyz');
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
  });

  it('is not ready while the index is missing, and answers searches with no hits meanwhile', async () => {
    const es = createClient({ ES_HOST: f.config.ES_HOST });
    const { app } = await buildServer({ config: { ...f.config, ES_INDEX: `${f.alias}-missing` }, model: f.model, es });
    try {
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().missing).toEqual([`index: ${f.alias}-missing does not exist yet (run the embedder)`]);
      const search = await app.inject({ url: '/search/text?q=red' });
      expect(search.statusCode).toBe(200);
      expect(search.json()).toEqual([]);
    } finally {
      await app.close();
      await es.close();
    }
  });
});

describe('a model that does not fit the index', () => {
  it('is not ready, and answers searches 503 naming the cause rather than 500', async () => {
    const es = createClient({ ES_HOST: f.config.ES_HOST });
    const model = stubModel();
    const { app } = await buildServer({ config: f.config, model, es });
    try {
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().missing[0]).toMatch(/holds 64-dim vectors but the model gives 4/);
      const search = await app.inject({ url: '/search/text?q=red' });
      expect(search.statusCode).toBe(503);
      expect(search.json()).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/see \/readyz/) });
    } finally {
      await app.close();
      await es.close();
    }
  });
});

describe('files of the fixture', () => {
  it('never serves the symlink that points outside', async () => {
    const res = await rawRequest(f.base, '/images/escape.jpg');
    expect(res.status).toBe(404);
    expect((await rawRequest(f.base, '/thumbnails/escape.webp')).status).toBe(404);
  });
});
