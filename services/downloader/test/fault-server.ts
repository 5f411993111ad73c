// A loopback HTTP server for the downloader's tests: real pictures made with sharp, and every way a download goes wrong.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import sharp from 'sharp';

export interface Pictures {
  jpeg: Buffer;
  png: Buffer;
  webp: Buffer;
  gif: Buffer;
  avif: Buffer;
  tiff: Buffer;
  same: Buffer;
}

export async function makePictures(): Promise<Pictures> {
  const base = (r: number, g: number, b: number) =>
    sharp({ create: { width: 48, height: 32, channels: 3, background: { r, g, b } } });
  return {
    jpeg: await base(200, 30, 30).jpeg().toBuffer(),
    png: await base(30, 200, 30).png().toBuffer(),
    webp: await base(30, 30, 200).webp().toBuffer(),
    gif: await base(200, 200, 30).gif().toBuffer(),
    avif: await base(200, 30, 200).avif().toBuffer(),
    tiff: await base(30, 200, 200).tiff().toBuffer(),
    same: await base(90, 90, 90).jpeg({ quality: 70 }).toBuffer(),
  };
}

export interface FaultServer {
  base: string;
  /** Requests seen per path since the last reset. */
  hits: Map<string, number[]>;
  count(path: string): number;
  resetCounts(): void;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, nth: number) => void;

/** Bytes that start like a JPEG but go on far past any test's MAX_IMAGE_BYTES. */
function bigJpegLike(size: number): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[2] = 0xff;
  return b;
}

/** Two good pictures: /a.jpg and /b.png. */
export function pictureRoutes(p: Pictures): Record<string, Handler> {
  return {
    '/a.jpg': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(p.jpeg);
    },
    '/b.png': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(p.png);
    },
  };
}

export function faultRoutes(p: Pictures, opts: { maxBytes: number }): Record<string, Handler> {
  const send = (res: http.ServerResponse, type: string, body: Buffer, status = 200) => {
    res.writeHead(status, { 'content-type': type, 'content-length': body.length });
    res.end(body);
  };
  const redirect = (res: http.ServerResponse, to: string, status = 302) => {
    res.writeHead(status, { location: to });
    res.end();
  };
  return {
    '/img/photo.jpg': (_q, res) => send(res, 'image/jpeg', p.jpeg),
    '/img/graphic': (_q, res) => send(res, 'application/octet-stream', p.png),
    '/img/pic.webp': (_q, res) => send(res, 'image/webp', p.webp),
    '/img/anim.gif': (_q, res) => send(res, 'image/gif', p.gif),
    '/img/new.avif': (_q, res) => send(res, 'image/avif', p.avif),
    '/img/scan.tiff': (_q, res) => send(res, 'image/tiff', p.tiff),
    '/same/1': (_q, res) => send(res, 'image/jpeg', p.same),
    '/same/2': (_q, res) => send(res, 'image/jpeg', p.same),
    '/same/3.jpg': (_q, res) => send(res, 'image/jpeg', p.same),
    '/missing': (_q, res) => send(res, 'text/plain', Buffer.from('not found'), 404),
    '/forbidden': (_q, res) => send(res, 'text/plain', Buffer.from('no'), 403),
    '/flaky': (_q, res, nth) =>
      nth === 1 ? send(res, 'text/plain', Buffer.from('oops'), 500) : send(res, 'image/jpeg', p.jpeg),
    '/always-500': (_q, res) => send(res, 'text/plain', Buffer.from('down'), 503),
    '/rate-limited': (_q, res, nth) => {
      if (nth > 1) return send(res, 'image/png', p.png);
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' });
      res.end('slow down');
    },
    '/stall': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': p.jpeg.length });
      res.write(p.jpeg.subarray(0, 100));
      // never finishes: the client's idle timeout must end it
    },
    '/reset-mid-body': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(p.jpeg.subarray(0, Math.floor(p.jpeg.length / 2)), () => res.socket?.resetAndDestroy());
    },
    '/short-body': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': p.jpeg.length });
      res.write(p.jpeg.subarray(0, p.jpeg.length - 50), () => res.socket?.end());
    },
    '/html-as-jpeg': (_q, res) =>
      send(res, 'image/jpeg', Buffer.from('<!DOCTYPE html>\n<html><head><title>Login</title></head></html>')),
    '/drawing.svg': (_q, res) =>
      send(res, 'image/svg+xml', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')),
    '/notes.txt': (_q, res) => send(res, 'image/png', Buffer.from('just some words, not a picture\n'.repeat(5))),
    '/binary': (_q, res) => send(res, 'image/jpeg', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])),
    '/huge-chunked': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(bigJpegLike(opts.maxBytes * 3));
    },
    '/huge-declared': (_q, res) => send(res, 'image/jpeg', bigJpegLike(opts.maxBytes + 1)),
    '/chain/1': (_q, res) => redirect(res, '/chain/2', 301),
    '/chain/2': (_q, res) => redirect(res, '/chain/3', 307),
    '/chain/3': (q, res) => redirect(res, `http://${q.headers.host}/img/photo.jpg`, 308),
    '/loop/a': (_q, res) => redirect(res, '/loop/b'),
    '/loop/b': (_q, res) => redirect(res, '/loop/a'),
    '/endless/0': (q, res) => redirect(res, `/endless/${Number(q.url?.split('/').pop() ?? 0) + 1}`),
    '/to-ftp': (_q, res) => redirect(res, 'ftp://example.com/x.jpg'),
    '/gzip-content': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(p.jpeg));
    },
    '/gzip-transfer': (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'transfer-encoding': 'gzip, chunked' });
      res.end(zlib.gzipSync(p.png));
    },
  };
}

export async function startServer(routes: Record<string, Handler>): Promise<FaultServer> {
  const hits = new Map<string, number[]>();
  const seen = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const nth = (seen.get(path) ?? 0) + 1;
    seen.set(path, nth);
    hits.set(path, [...(hits.get(path) ?? []), Date.now()]);
    const route = routes[path] ?? (path.startsWith('/endless/') ? routes['/endless/0'] : undefined);
    if (!route) {
      res.writeHead(404);
      res.end();
      return;
    }
    route(req, res, nth);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    count: (path) => hits.get(path)?.length ?? 0,
    resetCounts: () => hits.clear(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
