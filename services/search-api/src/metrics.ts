// search-api's Prometheus metrics: requests by route (packages/metrics), the text-vector cache, the model queue and
// Elasticsearch errors; served at GET /metrics.
import {
  Counter,
  collectProcessMetrics,
  Gauge,
  METRICS_CONTENT_TYPE,
  metricsText,
  requestMetrics,
} from '@image-search/metrics';
import { isUnavailable } from '@image-search/search-index';
import type { FastifyInstance } from 'fastify';
import type { InferenceQueue } from './inference-queue.ts';

export const queryCacheLookups = new Counter({
  name: 'search_query_cache_lookups_total',
  help: 'Text queries looked up in the query-vector cache, by result (hit: no model run)',
  labelNames: ['result'],
});

export const elasticsearchErrors = new Counter({
  name: 'search_elasticsearch_errors_total',
  help: 'Requests that failed in Elasticsearch, by kind (unavailable: unreachable or overloaded; other: refused)',
  labelNames: ['kind'],
});

/** Every running server's queue (tests run several in one process); read at each scrape. */
const queues = new Set<InferenceQueue>();

new Gauge({
  name: 'search_inference_queue_depth',
  help: 'Queries and uploads waiting for a model slot',
  collect() {
    this.set([...queues].reduce((n, q) => n + q.queued, 0));
  },
});

new Gauge({
  name: 'search_inference_running',
  help: 'Model runs in progress (at most MAX_CONCURRENT_INFERENCES)',
  collect() {
    this.set([...queues].reduce((n, q) => n + q.active, 0));
  },
});

/** Counts an error from Elasticsearch (a client error or its unreachability); anything else is not counted. */
export function countElasticsearchError(err: unknown): void {
  const name = (err as { name?: string } | null)?.name ?? '';
  if (isUnavailable(err)) elasticsearchErrors.inc({ kind: 'unavailable' });
  else if (name === 'ResponseError') elasticsearchErrors.inc({ kind: 'other' });
}

/** GET /metrics, the request histogram, and the queue's depth while the server runs. */
export async function metricsRoutes(app: FastifyInstance, opts: { queue: InferenceQueue }) {
  collectProcessMetrics();
  const requests = requestMetrics();
  queues.add(opts.queue);
  app.addHook('onClose', async () => {
    queues.delete(opts.queue);
  });
  app.addHook('onResponse', async (request, reply) => {
    requests.observe(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type(METRICS_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(await metricsText()),
  );
}
