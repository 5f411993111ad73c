import { defineConfig } from 'vitest/config';

// `pnpm test:containers`: builds every image, runs the compose stack and searches it (see containers.test.ts).
// Slow by nature (image builds), so it is its own suite rather than part of `pnpm test`.
export default defineConfig({
  test: {
    include: ['test/containers/**/*.test.ts'],
    testTimeout: 10 * 60_000,
    hookTimeout: 20 * 60_000,
    fileParallelism: false,
  },
});
