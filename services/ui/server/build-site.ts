// Builds the page with Vite when dist/ is missing or older than its sources, so `pnpm ui` works from a fresh clone
// and after an edit. The build goes to a temporary folder that replaces dist/ at the end, so a server never serves a
// half-written build.
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@image-search/log';

const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json'];

async function newestMtime(p: string): Promise<number> {
  const s = await stat(p).catch(() => null);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of await readdir(p)) newest = Math.max(newest, await newestMtime(path.join(p, entry)));
  return newest;
}

export async function isBuildCurrent(uiRoot: string, distDir: string): Promise<boolean> {
  const built = await stat(path.join(distDir, 'index.html')).catch(() => null);
  if (!built) return false;
  let newest = 0;
  for (const s of SOURCES) newest = Math.max(newest, await newestMtime(path.join(uiRoot, s)));
  return built.mtimeMs >= newest;
}

export async function ensureBuilt(uiRoot: string, distDir: string, log: Logger): Promise<void> {
  if (await isBuildCurrent(uiRoot, distDir)) return;
  const started = performance.now();
  log.info({ distDir }, 'building the page (dist/ is missing or older than src/)');
  const { build } = await import('vite');
  const tmp = await mkdtemp(path.join(uiRoot, '.dist-build-'));
  try {
    await build({
      root: uiRoot,
      configFile: path.join(uiRoot, 'vite.config.ts'),
      configLoader: 'runner',
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    const old = `${distDir}.old-${process.pid}`;
    await rename(distDir, old).catch(() => {});
    await rename(tmp, distDir);
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  log.info({ ms: Math.round(performance.now() - started) }, 'page built');
}
