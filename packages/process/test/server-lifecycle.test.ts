// The start/reuse/stop steps of a local server, with a small Node HTTP server standing in for Elasticsearch or
// RabbitMQ: a start, reuse of one that answers, a refused port, a server that dies during start, and stop by pid file.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/free-port.ts';
import { type LocalServerSpec, startLocalServer, stopLocalServer } from '../src/server-lifecycle.ts';

let dir: string;
let port: number;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'image-search-server-'));
  port = await freePort();
});

afterEach(async () => {
  await stopLocalServer(spec());
  await rm(dir, { recursive: true, force: true });
});

const answers = () =>
  fetch(`http://127.0.0.1:${port}/`).then(
    (res) => res.ok,
    () => false,
  );

function spec(script = `require('node:http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1')`) {
  return {
    what: 'Stand-in',
    dir,
    pidFile: path.join(dir, 'server.pid'),
    logFile: path.join(dir, 'server.log'),
    marker: dir,
    stopTimeoutMs: 5000,
    error: (m: string) => new Error(m),
    port,
    home: dir,
    timeoutMs: 10_000,
    log: () => {},
    isUp: answers,
    readiness: 'answer',
    ports: [port],
    owner: 'our stand-in',
    otherPort: 'PORT=1234',
    prepare: async () => ({ command: process.execPath, args: ['-e', script, dir] }),
  } satisfies LocalServerSpec;
}

describe('startLocalServer / stopLocalServer', () => {
  it('starts a server, reuses it on a second start, and stops it by its pid file', async () => {
    const first = await startLocalServer(spec());
    expect(first.startedByUs).toBe(true);
    expect(await answers()).toBe(true);
    const again = await startLocalServer(spec());
    expect(again.startedByUs).toBe(false);
    await again.stop();
    expect(await answers()).toBe(true);

    expect(await stopLocalServer(spec())).toBe('stopped');
    expect(await answers()).toBe(false);
    expect(await stopLocalServer(spec())).toBe('not-running');
  });

  it('refuses a port held by something else, naming the port and how to choose another', async () => {
    const other = http.createServer((_req, res) => res.end('someone else'));
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startLocalServer({ ...spec(), isUp: async () => false })).rejects.toThrow(
        `port ${port} on 127.0.0.1 is taken by something that is not our stand-in: stop it (see: ss -ltnp 'sport = :${port}') or choose another port (PORT=1234)`,
      );
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('reports a server that exits during start with the end of its log', async () => {
    const attempt = startLocalServer(spec("console.log('bad configuration'); process.exit(7)"));
    await expect(attempt).rejects.toThrow(
      /Stand-in exited during start \(code 7\); last lines of .*\n.*bad configuration/,
    );
  });

  it('stops a server that does not become ready in time', async () => {
    const attempt = startLocalServer({ ...spec(), isReady: async () => false, timeoutMs: 1000 });
    await expect(attempt).rejects.toThrow('Stand-in did not answer within 1 s');
    expect(await answers()).toBe(false);
  });
});
