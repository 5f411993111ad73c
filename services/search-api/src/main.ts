// `pnpm search-api`: load config, connect to Elasticsearch, listen, and serve with the model of the index ES_INDEX points
// at (warmed up, in its worker thread), following the alias to the next model when it moves; on SIGTERM/SIGINT stop
// accepting, let in-flight requests finish, then close the models and the client.
import path from 'node:path';
import { exitOnConfigError, loadSearchApiConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { onShutdown } from '@image-search/process';
import { createClient } from '@image-search/search-index';
import { QueueCounter } from '@image-search/work-queue';
import { startQueryModel } from './query-model.ts';
import { buildServer } from './server.ts';
import { ServingModels } from './serving.ts';

/** How often the alias is looked up: a model switch is noticed within this time. */
const ALIAS_CHECK_MS = 2000;

/** Longest a shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = exitOnConfigError('search-api', () => loadSearchApiConfig());
  const log = createLogger('search-api', { level: config.LOG_LEVEL });

  const es = createClient(config);
  // The model comes from the index the alias points at (its _meta names it), so it is loaded once that index is known.
  const models = new ServingModels({
    es,
    alias: config.ES_INDEX,
    modelDirs: (m) => [path.join(config.MODELS_DIR, `${m.name}-${m.pretrained}`)],
    load: (dir) =>
      startQueryModel(dir, {
        device: config.DEVICE,
        threads: config.MODEL_THREADS || undefined,
        logLevel: config.LOG_LEVEL,
        onDied(err) {
          // Every later query would fail: exit so the supervisor restarts the service with a fresh model.
          log.fatal({ err }, 'the model worker died');
          log.flush(() => process.exit(1));
        },
      }),
    logger: log,
  });
  const counter = config.QUEUE_URL
    ? await QueueCounter.open(
        { url: config.QUEUE_URL, name: config.QUEUE_NAME, maxAttempts: config.QUEUE_MAX_ATTEMPTS },
        log,
      )
    : undefined;
  const queueCounts = counter && (() => counter.counts());
  const { app } = await buildServer({ config, model: models, es, logger: log, queueCounts });
  await app.listen({ host: config.API_HOST, port: config.API_PORT });
  models.start(ALIAS_CHECK_MS);

  // Fastify's close stops accepting and waits for the requests in flight; their model runs drain before the model.
  onShutdown({
    log,
    graceMs: SHUTDOWN_GRACE_MS,
    async stop() {
      await app.close();
      await models.close();
      await es.close();
      await counter?.close();
      log.info('stopped');
    },
  });
}

main().catch((err) => {
  process.stderr.write(`search-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
