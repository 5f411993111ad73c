// @vitest-environment node
// UI_BASIC_AUTH and the API key, over real sockets: the page and its /api proxy ask for the password (401, JSON,
// WWW-Authenticate), /healthz and /metrics stay open, and the proxy sends the API its key instead of the browser's
// credentials, so pictures and searches load in the page.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '@image-search/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUiServer } from '../server/ui-server.ts';

const KEY = 'ui-key-0123456789abcdef';
const log = createLogger('ui-test', { level: 'error' });
const basic = (login: string) => ({ authorization: `Basic ${Buffer.from(login).toString('base64')}` });

let dir: string;
let upstream: http.Server;
let ui: http.Server;
let uiBase: string;
const upstreamAuth: Array<string | undefined> = [];

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ui-access-test-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>page</title>');
  // Stands in for search-api with API_KEYS: only the key opens it.
  upstream = http.createServer((req, res) => {
    upstreamAuth.push(req.headers.authorization);
    const ok = req.headers.authorization === `Bearer ${KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'image/png' }).end(ok ? 'picture bytes' : '');
  });
  const upstreamBase = await listen(upstream);
  ui = await createUiServer({
    distDir: dir,
    apiUrl: upstreamBase,
    topK: 10,
    log,
    apiKey: KEY,
    basicAuth: { user: 'anna', password: 's3cret:pass' },
  });
  uiBase = await listen(ui);
});

afterAll(async () => {
  ui.closeAllConnections();
  await new Promise((r) => ui.close(r));
  await new Promise((r) => upstream.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('UI_BASIC_AUTH', () => {
  it('asks for the password on the page and the proxy: 401, JSON, a Basic challenge', async () => {
    for (const p of ['/', '/index.html', '/api/images/a.png', '/api/search/text?q=red']) {
      for (const headers of [{}, basic('anna:wrong'), basic('bob:s3cret:pass'), { authorization: `Bearer ${KEY}` }]) {
        const res = await fetch(`${uiBase}${p}`, { headers });
        expect(res.status, `${p} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="image-search"/);
        expect(await res.json()).toEqual({ error: 'unauthorized', message: expect.stringContaining('UI_BASIC_AUTH') });
      }
    }
    expect(upstreamAuth).toEqual([]);
  });

  it('serves the page, and pictures through the proxy with the API key in place of the password', async () => {
    const page = await fetch(`${uiBase}/`, { headers: basic('anna:s3cret:pass') });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>page</title>');
    const picture = await fetch(`${uiBase}/api/images/a.png`, { headers: basic('anna:s3cret:pass') });
    expect(picture.status).toBe(200);
    expect(await picture.text()).toBe('picture bytes');
    expect(upstreamAuth).toEqual([`Bearer ${KEY}`]);
  });

  it("passes the container health check, which logs in with the container's UI_BASIC_AUTH", async () => {
    // The file the images run (compiled), as packages/process's own health-check test runs it.
    const check = fileURLToPath(new URL('../../../packages/process/src/health-check.ts', import.meta.url));
    const run = (env: NodeJS.ProcessEnv) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', check, 'http', `${uiBase}/api/readyz`], { env }).then(
        () => 'healthy',
        (err: { stdout: string }) => err.stdout.trim(),
      );
    const { UI_BASIC_AUTH: _, ...env } = process.env;
    expect(await run({ ...env, UI_BASIC_AUTH: 'anna:s3cret:pass' })).toBe('healthy');
    expect(await run(env)).toMatch(/^unhealthy: .*answered 401/);
  });

  it('leaves /healthz and /metrics open, and counts requests by route', async () => {
    expect((await fetch(`${uiBase}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${uiBase}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^http_request_duration_seconds_count\{route="\/api",method="GET",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{route="page",method="GET",status="401"\} [1-9]/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
  });
});
