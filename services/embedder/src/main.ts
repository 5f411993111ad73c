// `pnpm embedder [--once]`: every picture under IMAGES_DIR searchable in Elasticsearch, re-scanned every POLL_SECONDS.
import { parseArgs } from 'node:util';
import { exitOnConfigError, loadEmbedderConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { serveMetrics } from '@image-search/metrics';
import { Heartbeat, onShutdown } from '@image-search/process';
import { runEmbedder } from './embedder.ts';

const cfg = exitOnConfigError('embedder', () => loadEmbedderConfig());
const logger = createLogger('embedder', { level: cfg.LOG_LEVEL });
const { once } = parseArgs({ options: { once: { type: 'boolean', default: false } } }).values;
const stop = new AbortController();

// Every step is safe to cut short (state is journalled only after Elasticsearch acknowledged), so a signal stops at
// once rather than finishing a long round.
onShutdown({
  log: logger,
  graceMs: 0,
  stop() {
    stop.abort();
    process.exit(0);
  },
});

try {
  await serveMetrics({ port: cfg.METRICS_PORT, host: cfg.METRICS_HOST, log: logger });
  const heartbeat = new Heartbeat(cfg.heartbeatFile, {
    staleAfterMs: cfg.HEALTH_STALE_SECONDS * 1000,
  });
  await runEmbedder(cfg, { logger, once, signal: stop.signal, heartbeat });
} catch (err) {
  logger.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
