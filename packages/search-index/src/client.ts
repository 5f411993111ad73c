// Client construction from the service config, and waiting for a cluster that is starting or away.
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { Logger } from '@image-search/log';
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
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  let attempt = 0;
  let lastError = '';
  for (;;) {
    attempt++;
    try {
      const health = await call('cluster health', () =>
        client.cluster.health(
          { wait_for_status: opts.status ?? 'yellow', timeout: '5s' },
          { requestTimeout: 10_000, maxRetries: 0 },
        ),
      );
      if (!health.timed_out) {
        if (attempt > 1) opts.logger?.info({ attempt, status: health.status }, 'Elasticsearch is available');
        return;
      }
      lastError = `cluster health is ${health.status}`;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      lastError = (err as Error).message;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new EsUnavailableError(`Elasticsearch did not become available within ${timeoutMs} ms: ${lastError}`);
    }
    if (attempt === 1 || attempt % 10 === 0) {
      opts.logger?.warn({ attempt, retryInMs: delay, error: lastError }, 'waiting for Elasticsearch');
    }
    await new Promise((r) => setTimeout(r, Math.min(delay, left)));
    delay = Math.min(delay * 2, 5_000);
  }
}
