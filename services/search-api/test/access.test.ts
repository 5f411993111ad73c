// API_KEYS and the rate limits, over real sockets: refusals are JSON errors like every other, with WWW-Authenticate
// or Retry-After; health checks, the Prometheus scrape and the API's description stay open.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, rawRequest } from './http.ts';
import { startStubServer } from './stub-server.ts';

const KEY = 'k-0123456789abcdef';
const OTHER_KEY = 'k-fedcba9876543210';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const dir = mkdtempSync(path.join(os.tmpdir(), 'search-api-access-'));
writeFileSync(path.join(dir, 'a.txt'), 'a picture stands in here');

function expectErrorBody(res: RawResponse, error: string) {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<{ error: string; message: string }>();
  expect(body.error).toBe(error);
  expect(body.message.length).toBeGreaterThan(10);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API_KEYS', () => {
  let server: Awaited<ReturnType<typeof startStubServer>>;
  beforeAll(async () => {
    server = await startStubServer({ API_KEYS: `${KEY}, ${OTHER_KEY}`, IMAGES_DIR: dir });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a request without a key: 401, JSON, WWW-Authenticate', async () => {
    const res = await rawRequest(server.base, '/images/a.txt');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expectErrorBody(res, 'unauthorized');
    expect(res.json<{ message: string }>().message).toMatch(/API key is required/);
  });

  it('refuses a wrong key and a key sent another way', async () => {
    for (const headers of [bearer('k-not-one-of-the-keys'), { authorization: `Basic ${btoa(`x:${KEY}`)}` }]) {
      const res = await rawRequest(server.base, '/images/a.txt', { headers });
      expect(res.status).toBe(401);
      expectErrorBody(res, 'unauthorized');
    }
    const search = await rawRequest(server.base, '/search/text?q=red', { headers: bearer('k-not-one-of-the-keys') });
    expect(search.status).toBe(401);
    expect((await rawRequest(server.base, '/meta')).status).toBe(401);
    expect((await rawRequest(server.base, '/no/such/route')).status).toBe(401);
  });

  it('serves every key of the list', async () => {
    for (const key of [KEY, OTHER_KEY]) {
      const res = await rawRequest(server.base, '/images/a.txt', { headers: bearer(key) });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('a picture stands in here');
    }
    // Past the key check: this stub has no Elasticsearch, so a search is a 503, not a 401.
    const search = await rawRequest(server.base, '/search/text?q=red', { headers: bearer(KEY) });
    expect(search.status).toBe(503);
  });

  it('leaves health checks, metrics and the API description open', async () => {
    expect((await rawRequest(server.base, '/healthz')).status).toBe(200);
    expect((await rawRequest(server.base, '/readyz')).status).toBe(503);
    expect((await rawRequest(server.base, '/metrics')).status).toBe(200);
    const docs = await rawRequest(server.base, '/docs/json');
    expect(docs.status).toBe(200);
    const spec = docs.json<{
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      security: unknown[];
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    expect(spec.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.security).toEqual([{ apiKey: [] }]);
    expect(spec.paths['/healthz'].get.security).toEqual([]);
    expect(spec.paths['/search/text'].get.security).toBeUndefined();
  });
});

describe('without API_KEYS', () => {
  it('is open, and its OpenAPI document asks for no key', async () => {
    const server = await startStubServer({ IMAGES_DIR: dir });
    try {
      expect((await rawRequest(server.base, '/images/a.txt')).status).toBe(200);
      const spec = (await rawRequest(server.base, '/docs/json')).json<Record<string, unknown>>();
      expect(spec.security).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe('rate limits', () => {
  let server: Awaited<ReturnType<typeof startStubServer>>;
  beforeAll(async () => {
    server = await startStubServer({
      RATE_LIMIT_PER_MINUTE: '2',
      UPLOAD_RATE_LIMIT_PER_MINUTE: '1',
      TRUST_PROXY: 'loopback',
      IMAGES_DIR: dir,
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const upload = (ip: string) =>
    rawRequest(server.base, '/search/image', {
      method: 'POST',
      headers: { ...from(ip), 'content-type': 'image/png' },
      body: Buffer.from('not a picture'),
    });

  it('answers the search past the limit with 429, JSON and Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await rawRequest(server.base, '/search/text?q=red', { headers: from('203.0.113.1') })).status);
    }
    expect(statuses.slice(0, 2)).not.toContain(429);
    const res = await rawRequest(server.base, '/search/text?q=red', { headers: from('203.0.113.1') });
    expect(res.status).toBe(429);
    expectErrorBody(res, 'rate_limited');
    expect(res.json<{ message: string }>().message).toMatch(/at most 2 a minute/);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts each client (behind a trusted proxy: its X-Forwarded-For), and uploads apart from searches', async () => {
    expect((await rawRequest(server.base, '/search/text?q=red', { headers: from('203.0.113.2') })).status).not.toBe(
      429,
    );
    expect((await upload('203.0.113.3')).status).not.toBe(429);
    const second = await upload('203.0.113.3');
    expect(second.status).toBe(429);
    expect(second.json<{ message: string }>().message).toMatch(/too many uploads: at most 1 a minute/);
    expect((await rawRequest(server.base, '/search/text?q=red', { headers: from('203.0.113.3') })).status).not.toBe(
      429,
    );
  });

  it('does not limit files, health checks or metrics', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await rawRequest(server.base, '/images/a.txt', { headers: from('203.0.113.1') })).status).toBe(200);
      expect((await rawRequest(server.base, '/healthz', { headers: from('203.0.113.1') })).status).toBe(200);
    }
  });
});
