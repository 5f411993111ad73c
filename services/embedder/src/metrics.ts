// The embedder's Prometheus metrics, served by packages/metrics' listener when METRICS_PORT is set.

import type { Logger } from '@image-search/log';
import { Counter, Gauge, Histogram, ROUND_DURATION_BUCKETS } from '@image-search/metrics';
import { type Client, EsUnavailableError, untilAvailable } from '@image-search/search-index';

export const picturesEmbedded = new Counter({
  name: 'embedder_pictures_embedded_total',
  help: 'Pictures run through the image tower (new pictures: duplicates and already indexed ones are not)',
});

export const picturesFailed = new Counter({
  name: 'embedder_pictures_failed_total',
  help: 'Pictures that could not be indexed: corrupt or unsupported files, documents Elasticsearch refused',
});

export const picturesInFolder = new Gauge({
  name: 'embedder_pictures_in_folder',
  help: 'Picture files found by the last scan of IMAGES_DIR',
});

export const inferenceQueueDepth = new Gauge({
  name: 'embedder_inference_queue_depth',
  help: 'Batches handed to the image tower and not yet embedded (running or waiting)',
});

export const roundDuration = new Histogram({
  name: 'embedder_round_duration_seconds',
  help: 'How long each round (scan, embed, write, settle) took',
  buckets: ROUND_DURATION_BUCKETS,
});

const elasticsearchErrors = new Counter({
  name: 'embedder_elasticsearch_errors_total',
  help: 'Elasticsearch calls that failed because the cluster was unavailable (each is retried once it is back)',
});

/**
 * How the embedder calls Elasticsearch: search-index's untilAvailable (wait for the cluster, then run the call again),
 * counting each time the call found it unavailable.
 */
export function countedUntilAvailable(client: Client, logger: Logger) {
  return <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    untilAvailable(client, logger, what, () =>
      fn().catch((err: unknown) => {
        if (err instanceof EsUnavailableError) elasticsearchErrors.inc();
        throw err;
      }),
    );
}
