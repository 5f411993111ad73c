import { defineConfig } from 'vitest/config';

// Projects: fast unit tests; the UI's component tests (jsdom, its own config); and integration tests
// (*.int.test.ts) that get a real Elasticsearch and RabbitMQ from the global setups (reused when ES_HOST / QUEUE_URL
// answer, otherwise started locally and stopped afterwards).
export default defineConfig({
  test: {
    projects: [
      'services/ui/vitest.config.ts',
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{packages,services,scripts,bench}/**/test/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts', 'test/containers/**', 'services/ui/**'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{packages,services,scripts,test}/**/test/**/*.int.test.{ts,tsx}', 'test/**/*.int.test.ts'],
          exclude: ['**/node_modules/**', 'test/containers/**'],
          globalSetup: ['./test/global-elasticsearch.ts', './test/global-rabbitmq.ts'],
          setupFiles: ['./test/integration-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One file at a time: they share one Elasticsearch and one broker, which the broker-restart tests restart.
          fileParallelism: false,
        },
      },
    ],
  },
});
