// The UI's HTTP server: the built page, /api proxied to the search API, and /healthz for container health checks.
import http from 'node:http';
import type { Logger } from '@image-search/log';
import { createApiProxy } from './api-proxy.ts';
import { loadStaticSite } from './static-site.ts';

export interface UiServerOptions {
  distDir: string;
  apiUrl: string;
  topK: number;
  log: Logger;
}

export async function createUiServer(opts: UiServerOptions): Promise<http.Server> {
  const site = await loadStaticSite(opts.distDir, { topK: opts.topK });
  const proxy = createApiProxy(opts.apiUrl, opts.log);

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (opts.log.isLevelEnabled('debug')) {
      const started = performance.now();
      res.once('close', () => {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        opts.log.debug({ method: req.method, url, status: res.statusCode, ms, done: res.writableFinished }, 'request');
      });
    }
    const pathname = url.split('?', 1)[0];
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      proxy.handle(req, res, url.slice(4) || '/');
      return;
    }
    if (pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    site.serve(req, res, pathname);
  });
  server.on('close', () => proxy.close());
  server.keepAliveTimeout = 65_000;
  return server;
}
