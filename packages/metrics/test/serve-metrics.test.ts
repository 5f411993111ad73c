// The /metrics listener of the services without an HTTP server (downloader, embedder), on a real socket.
import type { AddressInfo } from 'node:net';
import { createLogger } from '@image-search/log';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/free-port.ts';
import { Counter, serveMetrics } from '../src/index.ts';

const log = createLogger('metrics-test', { level: 'silent' });
const counted = new Counter({ name: 'metrics_test_things_total', help: 'things counted by this test' });
const servers: Array<{ close(): void }> = [];
afterAll(() => {
  for (const s of servers) s.close();
});

describe('serveMetrics', () => {
  it('is off on port 0', async () => {
    expect(await serveMetrics({ port: 0, host: '127.0.0.1', log })).toBeNull();
  });

  it('serves this process metrics at /metrics in Prometheus text format, and nothing else', async () => {
    const server = await serveMetrics({ port: await freePort(), host: '127.0.0.1', log });
    if (!server) throw new Error('not listening');
    servers.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    counted.inc(3);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^metrics_test_things_total 3$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('says which port it cannot have', async () => {
    const port = await freePort();
    const first = await serveMetrics({ port, host: '127.0.0.1', log });
    if (first) servers.push(first);
    await expect(serveMetrics({ port, host: '127.0.0.1', log })).rejects.toThrow(
      `metrics: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`,
    );
  });
});
