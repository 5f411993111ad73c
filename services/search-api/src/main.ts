// `pnpm search-api`: load config and the model (warmed up, in its worker thread), connect to Elasticsearch, listen; on
// SIGTERM/SIGINT stop accepting, let in-flight requests finish, then close the model and the client.
import { exitOnConfigError, loadSearchApiConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { onShutdown } from '@image-search/process';
import { createClient } from '@image-search/search-index';
import { startQueryModel } from './query-model.ts';
import { buildServer } from './server.ts';

/** Longest a shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = exitOnConfigError('search-api', () => loadSearchApiConfig());
  const log = createLogger('search-api', { level: config.LOG_LEVEL });

  const t0 = performance.now();
  const model = await startQueryModel(config.modelDir, {
    device: config.DEVICE,
    threads: config.MODEL_THREADS || undefined,
    logLevel: config.LOG_LEVEL,
    onDied(err) {
      // Every later query would fail: exit so the supervisor restarts the service with a fresh model.
      log.fatal({ err }, 'the model worker died');
      log.flush(() => process.exit(1));
    },
  });
  log.info(
    {
      model: `${model.manifest.name}/${model.manifest.pretrained}`,
      dir: model.dir,
      provider: model.provider,
      synthetic: model.manifest.synthetic,
      ms: Math.round(performance.now() - t0),
    },
    'model loaded and warmed up',
  );

  const es = createClient(config);
  const { app } = await buildServer({ config, model, es, logger: log });
  await app.listen({ host: config.API_HOST, port: config.API_PORT });

  // Fastify's close stops accepting and waits for the requests in flight; their model runs drain before the model.
  onShutdown({
    log,
    graceMs: SHUTDOWN_GRACE_MS,
    async stop() {
      await app.close();
      await model.close();
      await es.close();
      log.info('stopped');
    },
  });
}

main().catch((err) => {
  process.stderr.write(`search-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
