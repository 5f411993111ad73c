// Client construction from the service config, and waiting for a cluster that is starting or away.
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { Logger } from '@image-search/log';
import pRetry from 'p-retry';
import { call, EsUnavailableError, isUnavailable } from './errors.ts';

export type { Client };

export interface EsConfig {
  ES_HOST: string;
  ES_API_KEY?: string;
  ES_USERNAME?: string;
  ES_PASSWORD?: string;
  ES_CA_CERT?: string;
}

export function clientOptions(cfg: EsConfig): ClientOptions {
  const opts: ClientOptions = {
    node: cfg.ES_HOST,
    requestTimeout: 30_000,
    // Every write we make is idempotent (id = content hash), so retrying on a dropped connection is safe.
    maxRetries: 2,
  };
  if (cfg.ES_API_KEY) opts.auth = { apiKey: cfg.ES_API_KEY };
  else if (cfg.ES_USERNAME) opts.auth = { username: cfg.ES_USERNAME, password: cfg.ES_PASSWORD ?? '' };
  if (cfg.ES_CA_CERT) opts.tls = { ca: readFileSync(cfg.ES_CA_CERT, 'utf8') };
  return opts;
}

export function createClient(cfg: EsConfig): Client {
  return new Client(clientOptions(cfg));
}

export interface WaitOptions {
  /** Give up after this long (default 120 s); Infinity waits for ever. */
  timeoutMs?: number;
  logger?: Logger;
  /** Cluster health to wait for; yellow is enough to read and write (replicas may still be missing). */
  status?: 'yellow' | 'green';
}

/** Resolves once the cluster answers with at least yellow health; retries with capped exponential backoff. */
export async function waitForCluster(client: Client, opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  try {
    await pRetry(
      async (attempt) => {
        const health = await call('cluster health', () =>
          client.cluster.health(
            { wait_for_status: opts.status ?? 'yellow', timeout: '5s' },
            { requestTimeout: 10_000, maxRetries: 0 },
          ),
        );
        if (health.timed_out) throw new EsUnavailableError(`cluster health is ${health.status}`);
        if (attempt > 1) opts.logger?.info({ attempt, status: health.status }, 'Elasticsearch is available');
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 250,
        maxTimeout: 5_000,
        maxRetryTime: timeoutMs,
        shouldRetry: ({ error }) => isUnavailable(error),
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (isUnavailable(error) && (attemptNumber === 1 || attemptNumber % 10 === 0)) {
            opts.logger?.warn({ attempt: attemptNumber, error: error.message }, 'waiting for Elasticsearch');
          }
        },
      },
    );
  } catch (err) {
    if (!isUnavailable(err)) throw err;
    throw new EsUnavailableError(
      `Elasticsearch did not become available within ${timeoutMs} ms: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Runs `fn`; while it fails because the cluster is away (EsUnavailableError), waits for the cluster however long it
 * takes, then runs it again: for work for which Elasticsearch being away is a pause, not a failure.
 */
export async function untilAvailable<T>(
  client: Client,
  logger: Logger,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  return pRetry(() => fn(), {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 0,
    shouldRetry: ({ error }) => error instanceof EsUnavailableError,
    onFailedAttempt: async ({ error }) => {
      if (!(error instanceof EsUnavailableError)) return;
      logger.warn({ what, error: error.message }, 'Elasticsearch unavailable; waiting to resume');
      await waitForCluster(client, { timeoutMs: Number.POSITIVE_INFINITY, logger });
      logger.info({ what }, 'Elasticsearch is back; resuming');
    },
  });
}
