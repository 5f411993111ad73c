// `pnpm search-api` as a process: it becomes ready, and on SIGTERM stops accepting connections, finishes the request
// it is in the middle of, closes the model and the client, and exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from './fixture.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let f: Fixture;
let child: ChildProcess | undefined;

beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await f?.close();
});

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the search-api process', () => {
  it('finishes the request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'services/search-api/src/main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        ES_HOST: f.config.ES_HOST,
        ES_INDEX: f.alias,
        IMAGES_DIR: f.imagesDir,
        THUMBNAILS_DIR: f.thumbnailsDir,
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const res = await fetch(`${base}/readyz`).catch(() => null);
      if (res?.status === 200) break;
      if (i > 400 || child.exitCode !== null) throw new Error(`never became ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain('model loaded and warmed up');

    // A request whose body is only half sent when the signal arrives.
    const body = JSON.stringify({ text: 'red', k: 2 });
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${base}/search/text`,
        { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5));
      setTimeout(() => {
        child!.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(5)), 300);
      }, 200);
    });
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toHaveLength(2);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    expect(await exited).toBe(0);
    expect(output).toMatch(/shutting down/);
    expect(output).toMatch(/"msg":"stopped"/);
  }, 120_000);
});
