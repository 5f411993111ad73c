// pnpm es:start / es:status / es:stop on instances of their own (never the shared node on 9200): a second node on
// another port, a 3-node cluster, and a port held by something that is not Elasticsearch.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEsError, repoRoot, startLocalElasticsearch } from '../src/index.ts';

const run = promisify(execFile);
const tmpDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'image-search-es-'));
  tmpDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with port..port+n-1 (HTTP) and port+100..port+100+n-1 (transport) all free. */
async function freeBasePort(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: n }, (_, i) => [base + i, base + 100 + i]).flat();
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no free ports');
}

/** Pids of live processes whose command line mentions text (our instance's data folder). */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
      if (!zombie && cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'packages/local-elasticsearch/src/cli.ts', ...args],
      {
        cwd: repoRoot,
      },
    );
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  return (await res.json()) as T;
}

describe('pnpm es:start / es:status / es:stop', () => {
  it('starts a second node on its own port and data folder, reports it, and leaves no java process when stopped', async () => {
    const port = await freeBasePort(1);
    const dir = await tempDir();
    const flags = ['--port', String(port), '--data-dir', dir, '--heap', '512m'];

    const started = await cli('start', ...flags);
    expect(started.code, started.out).toBe(0);
    expect(started.out).toMatch(
      new RegExp(`Elasticsearch 8\\.\\S+ ready on http://127\\.0\\.0\\.1:${port} in \\d+\\.\\d s`),
    );
    const root = await json<{ version: { number: string }; cluster_name: string }>(`http://127.0.0.1:${port}/`);
    expect(root.version.number).toMatch(/^8\./);
    expect(root.cluster_name).not.toBe('image-search-9200');
    expect(await processesMentioning(dir)).toHaveLength(1);

    const again = await cli('start', ...flags);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already running');

    const status = await cli('status', ...flags);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/Elasticsearch 8\.\S+ on http:\/\/127\.0\.0\.1:\d+: (green|yellow), 1 node/);

    const stopped = await cli('stop', ...flags);
    expect(stopped.code, stopped.out).toBe(0);
    expect(stopped.out).toContain('stopped');
    expect(await processesMentioning(dir)).toEqual([]);
    expect(await canListen(port)).toBe(true);

    const after = await cli('status', ...flags);
    expect(after.code).toBe(3);
    expect(after.out).toContain('not running');
  });

  it('forms a 3-node cluster that places a replicated index on every node', async () => {
    const port = await freeBasePort(3);
    const dir = await tempDir();
    const es = await startLocalElasticsearch({ port, nodes: 3, heap: '768m', dataDir: dir });
    try {
      expect(es.startedByUs).toBe(true);
      const health = await json<{ number_of_nodes: number }>(`${es.host}/_cluster/health`);
      expect(health.number_of_nodes).toBe(3);
      for (const n of [1, 2]) {
        const other = await json<{ cluster_name: string }>(`http://127.0.0.1:${port + n}/`);
        expect(other.cluster_name).toBe(`image-search-${port}`);
      }

      const created = await fetch(`${es.host}/spread`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ settings: { number_of_shards: 3, number_of_replicas: 1 } }),
      });
      expect(created.status).toBe(200);
      const green = await json<{ status: string }>(
        `${es.host}/_cluster/health/spread?wait_for_status=green&timeout=60s`,
      );
      expect(green.status).toBe('green');
      const shards = await json<Array<{ node: string; prirep: string }>>(`${es.host}/_cat/shards/spread?format=json`);
      expect(shards).toHaveLength(6);
      expect(new Set(shards.map((s) => s.node)).size).toBe(3);
    } finally {
      await es.stop();
    }
    expect(await processesMentioning(dir)).toEqual([]);
  });

  it('refuses a port held by something that is not Elasticsearch, naming the port', async () => {
    const port = await freeBasePort(1);
    const server = http.createServer((_req, res) => res.end('not elasticsearch'));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const attempt = startLocalElasticsearch({ port, dataDir: await tempDir() });
      await expect(attempt).rejects.toThrow(LocalEsError);
      await expect(attempt).rejects.toThrow(
        `port ${port} on 127.0.0.1 is taken by something that is not Elasticsearch`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
