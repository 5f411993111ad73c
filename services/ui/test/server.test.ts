// @vitest-environment node
// The production server against a real upstream HTTP server: the built page, /healthz, and /api streamed both ways.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLogger } from '@image-search/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuildCurrent, SOURCE_HASH_FILE, sourceHash } from '../server/build-site.ts';
import { createUiServer } from '../server/ui-server.ts';

const log = createLogger('ui-test', { level: 'error' });
const PAGE =
  '<!doctype html><html><head><meta name="image-search-top-k" content="10" /></head><body>page</body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(5000))});`;

let dir: string;
let upstream: http.Server;
let ui: http.Server;
let uiBase: string;
let upstreamBase: string;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; sha: string; bytes: number }> = [];
let lastUpstreamClose: Promise<void> = Promise.resolve();

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ui-server-test-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), PAGE);
  await writeFile(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
  await writeFile(path.join(dir, '.source-hash'), 'abc\n');

  upstream = http.createServer((req, res) => {
    if (req.url?.startsWith('/slow')) {
      lastUpstreamClose = new Promise((resolve) => res.on('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part\n');
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      const entry = { method: req.method!, url: req.url!, headers: req.headers, sha: hash.digest('hex'), bytes };
      seen.push(entry);
      res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, {
        'content-type': 'application/json',
        'server-timing': 'embed;dur=1.5, knn;dur=2',
      });
      res.end(JSON.stringify({ got: entry.url, bytes, sha: entry.sha }));
    });
  });
  upstreamBase = await listen(upstream);
  ui = await createUiServer({ distDir: dir, apiUrl: `${upstreamBase}/`, topK: 7, log });
  uiBase = await listen(ui);
});

afterAll(async () => {
  ui.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => ui.close(r));
  await new Promise((r) => upstream.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('the page', () => {
  it('answers /healthz for the container health check', async () => {
    const res = await fetch(`${uiBase}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('writes TOP_K into the page and serves it for client-side paths too', async () => {
    for (const p of ['/', '/index.html', '/some/where?q=red']) {
      const res = await fetch(`${uiBase}${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<meta name="image-search-top-k" content="7" />');
    }
  });

  it('serves hashed assets gzipped with long caching, and 304 for a known ETag', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${uiBase}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } }, resolve),
    );
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toContain('immutable');
    expect(gunzipSync(Buffer.concat(chunks)).toString()).toBe(SCRIPT);
    const again = await fetch(`${uiBase}/assets/index-abc123.js`, { headers: { 'if-none-match': res.headers.etag! } });
    expect(again.status).toBe(304);
  });

  it("never serves the build's bookkeeping files", async () => {
    const res = await fetch(`${uiBase}/.source-hash`);
    expect(await res.text()).not.toContain('abc');
  });

  it('answers 404 for files that are not in the build, however the path is spelled', async () => {
    for (const p of ['/assets/old-123.js', '/../package.json', '/%2e%2e/server/main.ts', '/favicon.ico']) {
      const res = await fetch(`${uiBase}${p}`);
      expect(res.status, p).toBe(404);
    }
  });
});

describe('/api proxy', () => {
  it('forwards the path and query without /api and passes status, headers and body back', async () => {
    const res = await fetch(`${uiBase}/api/search/text?q=red%20car&k=3`);
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toBe('embed;dur=1.5, knn;dur=2');
    expect((await res.json()).got).toBe('/search/text?q=red%20car&k=3');
    const fwd = seen.at(-1)!;
    expect(fwd.headers['x-forwarded-for']).toContain('127.0.0.1');

    const missing = await fetch(`${uiBase}/api/missing`);
    expect(missing.status).toBe(404);
  });

  it('streams an upload through unchanged', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    const form = new FormData();
    form.append('file', new Blob([body], { type: 'image/png' }), 'big.png');
    const res = await fetch(`${uiBase}/api/search/image?k=5`, { method: 'POST', body: form });
    const echo = await res.json();
    expect(echo.got).toBe('/search/image?k=5');
    const fwd = seen.at(-1)!;
    expect(fwd.method).toBe('POST');
    expect(fwd.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(fwd.bytes).toBeGreaterThan(body.length);
    expect(echo.sha).toBe(fwd.sha);
  });

  it('stops the upstream request when the browser gives up', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${uiBase}/api/slow`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    const closed = lastUpstreamClose;
    ctl.abort();
    await expect(closed).resolves.toBeUndefined();
  });

  it('answers 502 with a JSON message naming the API when it cannot be reached', async () => {
    const down = await createUiServer({ distDir: dir, apiUrl: 'http://127.0.0.1:1', topK: 10, log });
    const base = await listen(down);
    try {
      const res = await fetch(`${base}/api/meta`);
      expect(res.status).toBe(502);
      expect(res.headers.get('x-ui-proxy')).toBe('upstream-unreachable');
      const body = await res.json();
      expect(body.error).toBe('unavailable');
      expect(body.message).toContain('http://127.0.0.1:1');
    } finally {
      down.closeAllConnections();
      await new Promise((r) => down.close(r));
    }
  });
});

describe('build freshness', () => {
  it('rebuilds when dist/ is missing or was built from other sources', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ui-build-test-'));
    const dist = path.join(root, 'dist');
    try {
      await mkdir(path.join(root, 'src'));
      await writeFile(path.join(root, 'src', 'App.tsx'), 'x');
      expect(await isBuildCurrent(root, dist)).toBe(false);
      await mkdir(dist);
      await writeFile(path.join(dist, 'index.html'), 'x');
      expect(await isBuildCurrent(root, dist)).toBe(false);
      await writeFile(path.join(dist, SOURCE_HASH_FILE), await sourceHash(root));
      expect(await isBuildCurrent(root, dist)).toBe(true);
      // Copies change file times, not contents: still current.
      const later = new Date(Date.now() + 60_000);
      await utimes(path.join(root, 'src', 'App.tsx'), later, later);
      expect(await isBuildCurrent(root, dist)).toBe(true);
      await writeFile(path.join(root, 'src', 'App.tsx'), 'changed');
      expect(await isBuildCurrent(root, dist)).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
