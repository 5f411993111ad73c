// Elasticsearch being away is a pause, not a failure: wait for it, then do the same thing again.
import type { Logger } from '@image-search/log';
import { type Client, EsUnavailableError, waitForCluster } from '@image-search/search-index';
import { elasticsearchErrors } from './metrics.ts';

export async function untilAvailable<T>(
  client: Client,
  logger: Logger,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof EsUnavailableError)) throw err;
      elasticsearchErrors.inc();
      logger.warn({ what, error: err.message }, 'Elasticsearch unavailable; waiting to resume');
      await waitForCluster(client, { timeoutMs: Number.POSITIVE_INFINITY, logger });
      logger.info({ what }, 'Elasticsearch is back; resuming');
    }
  }
}
