// Builds the page with Vite when dist/ is missing or was built from other sources, so `pnpm ui` works from a fresh
// clone and after an edit. Freshness is a hash of the sources' contents written beside the build (not file times,
// which copies and container layers change). The build goes to a temporary folder that replaces dist/ at the end, so
// a server never serves a half-written build.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@image-search/log';

const SOURCES = ['src', 'index.html', 'vite.config.ts'];
export const SOURCE_HASH_FILE = '.source-hash';

async function files(p: string): Promise<string[]> {
  const s = await stat(p).catch(() => null);
  if (!s) return [];
  if (!s.isDirectory()) return [p];
  const out: string[] = [];
  for (const entry of (await readdir(p)).sort()) out.push(...(await files(path.join(p, entry))));
  return out;
}

export async function sourceHash(uiRoot: string): Promise<string> {
  const hash = createHash('sha256');
  for (const s of SOURCES) {
    for (const f of await files(path.join(uiRoot, s))) {
      hash
        .update(path.relative(uiRoot, f))
        .update('\0')
        .update(await readFile(f))
        .update('\0');
    }
  }
  return hash.digest('hex');
}

export async function isBuildCurrent(uiRoot: string, distDir: string): Promise<boolean> {
  const built = await readFile(path.join(distDir, SOURCE_HASH_FILE), 'utf8').catch(() => null);
  if (built === null || !(await stat(path.join(distDir, 'index.html')).catch(() => null))) return false;
  // An install that ships only the built page (no src/) has nothing to rebuild from.
  if (!(await stat(path.join(uiRoot, 'src')).catch(() => null))) return true;
  return built.trim() === (await sourceHash(uiRoot));
}

export async function ensureBuilt(uiRoot: string, distDir: string, log: Logger): Promise<void> {
  if (await isBuildCurrent(uiRoot, distDir)) return;
  const hasBuild = !!(await stat(path.join(distDir, 'index.html')).catch(() => null));
  const started = performance.now();
  log.info({ distDir }, hasBuild ? 'building the page (its sources changed)' : 'building the page (no dist/ yet)');
  try {
    await buildInto(uiRoot, distDir);
  } catch (err) {
    // A stale but complete build (e.g. a read-only install) is better than no page at all.
    if (!hasBuild) throw err;
    log.warn({ err: (err as Error).message }, 'could not rebuild the page; serving the existing dist/');
    return;
  }
  log.info({ ms: Math.round(performance.now() - started) }, 'page built');
}

/** Builds the page into distDir (replacing it whole) and records the hash of the sources it was built from. */
export async function buildInto(uiRoot: string, distDir: string): Promise<void> {
  const { build } = await import('vite');
  const hash = await sourceHash(uiRoot);
  const tmp = await mkdtemp(path.join(uiRoot, '.dist-build-'));
  try {
    await build({
      root: uiRoot,
      configFile: path.join(uiRoot, 'vite.config.ts'),
      configLoader: 'runner',
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    await writeFile(path.join(tmp, SOURCE_HASH_FILE), `${hash}\n`);
    const old = `${distDir}.old-${process.pid}`;
    await rename(distDir, old).catch(() => {});
    await rename(tmp, distDir);
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
