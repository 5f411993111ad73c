// `pnpm ui`: builds the page when needed, then serves it on UI_HOST:UI_PORT with /api proxied to API_URL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitOnConfigError, loadUiConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { ensureBuilt } from './build-site.ts';
import { createUiServer } from './ui-server.ts';

const config = exitOnConfigError('ui', () => loadUiConfig());
const log = createLogger('ui', { level: config.LOG_LEVEL });
const uiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(uiRoot, 'dist');

await ensureBuilt(uiRoot, distDir, log);
const server = await createUiServer({ distDir, apiUrl: config.API_URL, topK: config.TOP_K, log });

server.on('error', (err) => {
  log.error({ err }, 'cannot listen');
  process.exit(1);
});
server.listen(config.UI_PORT, config.UI_HOST, () => {
  log.info(
    { url: `http://${config.UI_HOST}:${config.UI_PORT}`, api: config.API_URL, topK: config.TOP_K },
    'ui listening',
  );
});

function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
