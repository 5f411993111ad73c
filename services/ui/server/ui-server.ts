// The UI's HTTP server: the built page, /api proxied to the search API, /healthz for container health checks and
// /metrics for Prometheus (both open); with UI_BASIC_AUTH the page and /api ask for a user name and password.
import http from 'node:http';
import type { Credentials } from '@image-search/config';
import type { Logger } from '@image-search/log';
import { collectProcessMetrics, requestMetrics, sendMetrics } from '@image-search/metrics';
import { createApiProxy } from './api-proxy.ts';
import { askForCredentials, hasCredentials } from './basic-auth.ts';
import { loadStaticSite } from './static-site.ts';

export interface UiServerOptions {
  distDir: string;
  apiUrl: string;
  topK: number;
  log: Logger;
  /** Sent to the search API as a bearer key with every proxied request (the first of API_KEYS). */
  apiKey?: string;
  /** UI_BASIC_AUTH: asked for on everything but /healthz and /metrics. */
  basicAuth?: Credentials;
}

/** The request's route for the metrics: a handful of values, never the raw URL. */
function routeOf(pathname: string): string {
  if (pathname === '/api' || pathname.startsWith('/api/')) return '/api';
  if (pathname === '/healthz' || pathname === '/metrics') return pathname;
  return 'page';
}

export async function createUiServer(opts: UiServerOptions): Promise<http.Server> {
  const site = await loadStaticSite(opts.distDir, { topK: opts.topK });
  const proxy = createApiProxy(opts.apiUrl, opts.log, { apiKey: opts.apiKey });
  collectProcessMetrics();
  const requests = requestMetrics();

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0];
    const started = performance.now();
    res.once('close', () => {
      const ms = performance.now() - started;
      requests.observe(routeOf(pathname), req.method ?? 'GET', res.statusCode, ms / 1000);
      if (opts.log.isLevelEnabled('debug')) {
        const rounded = Math.round(ms * 10) / 10;
        opts.log.debug(
          { method: req.method, url, status: res.statusCode, ms: rounded, done: res.writableFinished },
          'request',
        );
      }
    });
    if (pathname === '/metrics') {
      sendMetrics(req, res, opts.log);
      return;
    }
    if (opts.basicAuth && pathname !== '/healthz' && !hasCredentials(req, opts.basicAuth)) {
      askForCredentials(res);
      return;
    }
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
