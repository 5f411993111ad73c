// Component and server tests for the UI: `pnpm vitest run --config services/ui/vitest.config.ts`.
// Components run in happy-dom; files marked `@vitest-environment node` (the server's) run in Node.
// The end-to-end test (*.int.test.ts) belongs to the root integration project, which provides Elasticsearch.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'ui',
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', '**/*.int.test.ts'],
    environment: 'happy-dom',
    testTimeout: 30_000,
  },
});
