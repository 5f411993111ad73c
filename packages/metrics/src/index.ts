// Prometheus metrics for every long-running service: prom-client's one registry per process, Node's process metrics,
// one request histogram for the HTTP services, and a small /metrics listener for the services that have no HTTP
// server of their own (downloader, embedder). Each service defines its own counters in its src/metrics.ts.
import http from 'node:http';
import type { Logger } from '@image-search/log';
import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';

export { Counter, Gauge, Histogram };

/** The Content-Type of the text metricsText() returns (Prometheus text format 0.0.4). */
export const METRICS_CONTENT_TYPE = register.contentType;

let processMetrics = false;

/** Node's process metrics (CPU, memory, event-loop lag, garbage collection, handles), collected once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics();
}

/** Every metric of this process, in Prometheus text format. */
export function metricsText(): Promise<string> {
  return register.metrics();
}

/** Long-running work (a round over a URL list or a folder): from a tenth of a second to a day. */
export const ROUND_DURATION_BUCKETS = [0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600];

/** Answers a GET or HEAD of /metrics on a node:http server (the ui's, or serveMetrics' own). */
export function sendMetrics(req: http.IncomingMessage, res: http.ServerResponse, log: Logger): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  metricsText().then(
    (text) => {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (err: Error) => {
      log.error({ err }, 'could not collect the metrics');
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${err.message}\n`);
    },
  );
}

export interface RequestMetrics {
  /** `route` is the route's pattern (/search/similar/:id), never the raw URL, so the label has few values. */
  observe(route: string, method: string, status: number, seconds: number): void;
}

let requests: Histogram<'route' | 'method' | 'status'> | undefined;

/** Request counts (the histogram's _count: queries per second) and durations by route, method and status. */
export function requestMetrics(): RequestMetrics {
  requests ??= new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route, method and status: how long each took to answer',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const histogram = requests;
  return {
    observe(route, method, status, seconds) {
      histogram.observe({ route, method, status: String(status) }, seconds);
    },
  };
}

/**
 * GET /metrics on host:port (with the process metrics) for a service without an HTTP server; anything else is a 404.
 * Port 0 means off (resolves to null). Resolves once listening; rejects when the port cannot be had.
 */
export async function serveMetrics(opts: { port: number; host: string; log: Logger }): Promise<http.Server | null> {
  if (opts.port === 0) return null;
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    if (req.url?.split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics here\n');
      return;
    }
    sendMetrics(req, res, opts.log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`metrics: cannot listen on ${opts.host}:${opts.port}: ${err.message}`)),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  // A scrape now and then must not keep the process alive at shutdown.
  server.unref();
  opts.log.info({ url: `http://${opts.host}:${opts.port}/metrics` }, 'metrics listening');
  return server;
}
