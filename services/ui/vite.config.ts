// Builds the page into dist/; `vite` (the dev script) serves it with /api proxied to API_URL like the production server.
import { fileURLToPath } from 'node:url';
import { loadUiConfig } from '@image-search/config';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(() => {
  const config = loadUiConfig();
  return {
    root,
    logLevel: 'warn' as const,
    build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
    server: {
      port: 5173,
      proxy: {
        '/api': { target: config.API_URL, changeOrigin: true, rewrite: (p: string) => p.replace(/^\/api/, '') },
      },
    },
  };
});
