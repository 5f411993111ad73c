// The lean HTTP/1.1 client on real sockets: framing (length, chunked, until close), keep-alive and its retry, 1xx,
// malformed responses, timeouts, abort, pause, TLS. Servers written byte by byte where framing is what is tested.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchImageOnce } from '../src/fetch-image.ts';
import { Http1Pool } from '../src/http1.ts';

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tls');
const cert = readFileSync(path.join(TLS_DIR, 'cert.pem'));
const key = readFileSync(path.join(TLS_DIR, 'key.pem'));

interface Got {
  status?: number;
  headers?: Record<string, unknown>;
  chunks: Buffer[];
  body: Buffer;
  error?: Error & { code?: string };
}

interface GetOptions {
  timeoutMs?: number;
  onData?: (controller: Dispatcher.DispatchController, chunk: Buffer, got: Got) => void;
}

function get(pool: Http1Pool, url: string, opts: GetOptions = {}): Promise<Got> {
  const u = new URL(url);
  const got: Got = { chunks: [], body: Buffer.alloc(0) };
  return new Promise((resolve) => {
    pool.dispatch(
      {
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        headers: { 'user-agent': 'http1-test', accept: 'image/*' },
        headersTimeout: opts.timeoutMs ?? 5000,
        bodyTimeout: opts.timeoutMs ?? 5000,
      },
      {
        onResponseStart(_c, status, headers) {
          got.status = status;
          got.headers = headers;
        },
        onResponseData(c, chunk) {
          got.chunks.push(chunk);
          opts.onData?.(c, chunk, got);
        },
        onResponseEnd() {
          got.body = Buffer.concat(got.chunks);
          resolve(got);
        },
        onResponseError(_c, error) {
          got.error = error;
          got.body = Buffer.concat(got.chunks);
          resolve(got);
        },
      },
    );
  });
}

interface RawServer {
  base: string;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A TCP server that hands each complete request (its head) to `answer` with the socket and its number overall. */
async function rawServer(answer: (socket: net.Socket, request: string, nth: number) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state: RawServer = { base: '', connections: 0, requests: [], close: async () => {} };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        state.requests.push(request);
        answer(socket, request, state.requests.length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  closers.push(state.close);
  return state;
}

function newPool(extra: Partial<ConstructorParameters<typeof Http1Pool>[0]> = {}): Http1Pool {
  const pool = new Http1Pool({ keepAliveMs: 2000, connectTimeoutMs: 2000, ...extra });
  closers.push(() => pool.destroy());
  return pool;
}

const picture = (size: number, seed = 7) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed) & 255));

/** Writes `pieces` one after another with a pause between, so the client sees them in separate reads. */
async function dribble(socket: net.Socket, pieces: Array<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe('Http1Pool', () => {
  it('reads a Content-Length body into one buffer of its size and reuses the kept-alive connection', async () => {
    const body = picture(300_000);
    let connections = 0;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length, 'x-path': req.url });
      res.end(body);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    });
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const pool = newPool();
    for (const p of ['/a.jpg?x=1', '/b.jpg']) {
      const got = await get(pool, `${base}${p}`);
      expect(got.error).toBeUndefined();
      expect(got.status).toBe(200);
      expect(got.headers).toMatchObject({ 'content-type': 'image/jpeg', 'x-path': p });
      expect(got.body.equals(body)).toBe(true);
      // consecutive views of one ArrayBuffer of exactly the body's size: the file writer gets it without a copy
      const memory = got.chunks[0].buffer;
      expect(memory.byteLength).toBe(body.length);
      expect(got.chunks.every((c) => c.buffer === memory)).toBe(true);
    }
    expect(connections).toBe(1);
    expect(pool.connections).toBe(1);
  });

  it('sends a GET with the Host (and port), User-Agent and Accept headers', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
    const got = await get(newPool(), `${server.base}/p%20q?a=b`);
    expect(got.status).toBe(204);
    const port = new URL(server.base).port;
    expect(server.requests[0]).toBe(
      `GET /p%20q?a=b HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nuser-agent: http1-test\r\naccept: image/*`,
    );
  });

  it('undoes the chunked coding whatever the reads split, with extensions and trailers, and keeps the connection', async () => {
    const server = await rawServer((socket) => {
      void dribble(socket, [
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: image/png\r\n\r\n5',
        ';name=value\r\nhel',
        'lo\r',
        '\n1',
        '0\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1',
        '\r\n\r\n',
      ]);
    });
    const pool = newPool();
    for (let i = 0; i < 2; i++) {
      const got = await get(pool, `${server.base}/c`);
      expect(got.error).toBeUndefined();
      expect(got.body.toString()).toBe('hello0123456789abcdef');
    }
    expect(server.connections).toBe(1);
  });

  it('reads a body that ends with the connection (no length, HTTP/1.0) and opens a new one for the next', async () => {
    const body = picture(70_000, 3);
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.0 200 OK\r\ncontent-type: image/jpeg\r\n\r\n');
      socket.end(body);
    });
    const pool = newPool();
    for (let i = 0; i < 2; i++) {
      const got = await get(pool, `${server.base}/old`);
      expect(got.error).toBeUndefined();
      expect(got.body.equals(body)).toBe(true);
    }
    expect(server.connections).toBe(2);
  });

  it('skips 100 Continue and 103 Early Hints before the response', async () => {
    const server = await rawServer((socket) => {
      void dribble(socket, [
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x.css>\r\n',
        '\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd',
      ]);
    });
    const got = await get(newPool(), `${server.base}/hints`);
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('abcd');
  });

  it('sends a GET again on a fresh connection when the server closed the kept-alive one, once', async () => {
    const server = await rawServer((socket, _req, nth) => {
      // the first request is answered; the second, on the same connection, meets a closed one
      if (nth === 2) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool = newPool();
    expect((await get(pool, `${server.base}/1`)).body.toString()).toBe('ok');
    const again = await get(pool, `${server.base}/2`);
    expect(again.error).toBeUndefined();
    expect(again.body.toString()).toBe('ok');
    expect(server.connections).toBe(2);
    expect(server.requests).toHaveLength(3);
  });

  it('does not send again a request whose response had begun, and says how much was missing', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      socket.end(Buffer.alloc(400, 1));
    });
    const got = await get(newPool(), `${server.base}/cut`);
    expect(got.error?.code).toBe('ECONNRESET');
    expect(got.error?.message).toMatch(/600 bytes before the end of the body/);
    expect(got.body.length).toBe(400);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP\/1.x status line/],
    [
      'a folded header',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n',
      /malformed response header/,
    ],
    [
      'two different lengths',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      /invalid Content-Length/,
    ],
    ['a negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
    [
      'a chunk without its CRLF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX',
      /does not end with CRLF/,
    ],
    ['a 101 on a GET', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', /switched protocols/],
    ['headers over 64 KB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, /larger than 65536 bytes/],
  ])('fails on %s with a clear error', async (_name, response, message) => {
    const server = await rawServer((socket) => socket.write(response));
    const pool = newPool();
    const got = await get(pool, `${server.base}/bad`);
    expect(got.error?.code).toBe('ERR_BAD_RESPONSE');
    expect(got.error?.message).toMatch(message);
    expect(pool.connections).toBe(0);
  });

  it('times out when the headers do not come, and when the body stops', async () => {
    const silent = await rawServer(() => {});
    const pool = newPool();
    const noHead = await get(pool, `${silent.base}/x`, { timeoutMs: 200 });
    expect(noHead.error).toMatchObject({ code: 'ETIMEDOUT', message: 'no response headers within 0.2 s' });
    const stalls = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const stalled = await get(pool, `${stalls.base}/y`, { timeoutMs: 200 });
    expect(stalled.error).toMatchObject({ code: 'ETIMEDOUT', message: 'no body bytes for 0.2 s' });
    expect(stalled.body.toString()).toBe('abc');
    expect(pool.connections).toBe(0);
  });

  it('closes the connection when the handler aborts in the middle of the body, and reports the reason once', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
      socket.write(Buffer.alloc(1000));
    });
    const pool = newPool();
    const reason = new Error('enough');
    let errors = 0;
    const got = await get(pool, `${server.base}/abort`, {
      onData: (c) => {
        c.abort(reason);
        c.abort(new Error('again'));
      },
    }).then((g) => {
      errors += g.error ? 1 : 0;
      return g;
    });
    expect(got.error).toBe(reason);
    expect(errors).toBe(1);
    expect(pool.connections).toBe(0);
  });

  it('lets the handler pause the socket and resume it', async () => {
    const body = picture(500_000, 11);
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
    let pauses = 0;
    const got = await get(newPool(), `${server.base}/slow`, {
      onData: (c) => {
        if (pauses++ < 3) {
          c.pause();
          setTimeout(() => c.resume(), 20);
        }
      },
    });
    expect(got.error).toBeUndefined();
    expect(got.body.equals(body)).toBe(true);
  });

  it('follows the server’s Keep-Alive timeout and closes idle connections after keepAliveMs', async () => {
    const hinted = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 1\r\n\r\nk'),
    );
    const pool = newPool({ keepAliveMs: 150 });
    await get(pool, `${hinted.base}/1`);
    await get(pool, `${hinted.base}/2`);
    // a server that closes after 1 s leaves no time to reuse safely
    expect(hinted.connections).toBe(2);
    const plain = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk'));
    await get(pool, `${plain.base}/1`);
    expect(pool.connections).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(pool.connections).toBe(0);
    // nothing kept of hosts it no longer talks to (a list of a million hosts)
    expect(pool.knownOrigins).toBe(0);
  });

  it('speaks HTTPS (ALPN http/1.1) with a trusted certificate and refuses an untrusted one', async () => {
    const body = picture(200_000, 5);
    const server = https.createServer({ cert, key }, (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    const resumed: boolean[] = [];
    server.on('secureConnection', (socket) => resumed.push(socket.isSessionReused()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    });
    const base = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const trusting = newPool({ tls: { ca: cert } });
    for (let i = 0; i < 2; i++) {
      const got = await get(trusting, `${base}/secure.jpg`);
      expect(got.error).toBeUndefined();
      expect(got.body.equals(body)).toBe(true);
    }
    expect(trusting.connections).toBe(1);
    // a new connection (the first one closed when idle) resumes the TLS session instead of a full handshake
    const brief = newPool({ tls: { ca: cert }, keepAliveMs: 100 });
    await get(brief, `${base}/secure.jpg`);
    await new Promise((r) => setTimeout(r, 300));
    expect(brief.connections).toBe(0);
    expect((await get(brief, `${base}/secure.jpg`)).body.equals(body)).toBe(true);
    expect(resumed).toEqual([false, false, true]);
    const strict = await get(newPool(), `${base}/secure.jpg`);
    expect(strict.error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // recorded as a permanent failure: trying again in a second will not make the certificate trusted
    const attempt = await fetchImageOnce(new URL(`${base}/secure.jpg`), {
      dispatcher: newPool(),
      userAgent: 'http1-test',
      timeoutMs: 2000,
      maxBytes: 1 << 20,
      tempDir: TLS_DIR,
      stem: 'unused',
    });
    expect(attempt).toMatchObject({ ok: false, reason: 'tls', retryable: false });
  });

  it('refuses to start after destroy, and fails what is running', async () => {
    const silent = await rawServer(() => {});
    const pool = newPool();
    const running = get(pool, `${silent.base}/x`);
    await new Promise((r) => setTimeout(r, 50));
    await pool.destroy();
    expect((await running).error?.code).toBe('ERR_DESTROYED');
    expect((await get(pool, `${silent.base}/y`)).error?.code).toBe('ERR_DESTROYED');
  });
});
