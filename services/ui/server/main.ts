// `pnpm ui`: builds the page when needed, then serves it on UI_HOST:UI_PORT with /api proxied to API_URL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitOnConfigError, loadUiConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { onShutdown } from '@image-search/process';
import { ensureBuilt } from './build-site.ts';
import { createUiServer } from './ui-server.ts';

const config = exitOnConfigError('ui', () => loadUiConfig());
const log = createLogger('ui', { level: config.LOG_LEVEL });
const uiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(uiRoot, 'dist');

await ensureBuilt(uiRoot, distDir, log);
const server = await createUiServer({
  distDir,
  apiUrl: config.API_URL,
  topK: config.TOP_K,
  log,
  apiKey: config.API_KEYS[0],
  basicAuth: config.UI_BASIC_AUTH,
});
if (config.API_KEYS.length > 0 && !config.UI_BASIC_AUTH) {
  log.warn('API_KEYS is set but UI_BASIC_AUTH is not: anyone who reaches UI_PORT searches through the /api proxy');
}

server.on('error', (err) => {
  log.error({ err }, 'cannot listen');
  process.exit(1);
});
server.listen(config.UI_PORT, config.UI_HOST, () => {
  log.info(
    {
      url: `http://${config.UI_HOST}:${config.UI_PORT}`,
      api: config.API_URL,
      topK: config.TOP_K,
      basicAuth: Boolean(config.UI_BASIC_AUTH),
      apiKey: config.API_KEYS.length > 0,
    },
    'ui listening',
  );
});

// Open keep-alive connections would hold the server open: idle ones are closed at once, busy ones when cut short.
onShutdown({
  log,
  graceMs: 5000,
  stop: () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }).then(() => process.exit(0)),
  cut() {
    server.closeAllConnections();
    process.exit(0);
  },
});
