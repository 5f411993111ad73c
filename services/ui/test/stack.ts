// A real stack in child processes for the browser test and bench/ui.ts: search-api (and the embedder) run from the
// repository with tsx, the UI server on a free port, and Debian's chromium driven by playwright-core.
// No DOM types here: this file is also type-checked with the root (Node-only) settings through bench/ui.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSyntheticModel } from '@image-search/clip';
import { type Browser, chromium, type Page } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
export const CHROMIUM = '/usr/bin/chromium';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  /** The last lines it wrote, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/** Runs `tsx <script>` from the repository root with `env` added to this process's environment. */
export function startTsx(name: string, script: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(TSX, [script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => `[${name}]\n${tail}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a script to completion; rejects with its output when it fails. */
export async function runTsx(name: string, script: string, args: string[], env: Record<string, string>) {
  const child = startTsx(name, script, args, env);
  const code = await new Promise<number | null>((resolve) => child.proc.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`${name} exited with ${code}\n${child.output()}`);
}

/** Polls `url` until it answers 200; fails early, with its output, when the child dies first. */
export async function waitForOk(url: string, child: Child, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`exited before ${url} answered\n${child.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})\n${child.output()}`);
}

export interface ApiEnv {
  ES_HOST: string;
  ES_INDEX: string;
  MODEL_DIR: string;
  IMAGES_DIR: string;
  THUMBNAILS_DIR: string;
}

/** Indexes IMAGES_DIR once with the real embedder, as `pnpm embedder --once` does, keeping its state in stateDir. */
export async function indexOnce(env: ApiEnv, stateDir: string): Promise<void> {
  await runTsx('embedder', 'services/embedder/src/main.ts', ['--once'], {
    ...env,
    STATE_DIR: stateDir,
    DEVICE: 'cpu',
    LOG_LEVEL: 'WARN',
  });
}

export async function startSearchApi(env: ApiEnv, extra: Record<string, string> = {}) {
  const port = await freePort();
  const child = startTsx('search-api', 'services/search-api/src/main.ts', [], {
    ...env,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    DEVICE: 'cpu',
    LOG_LEVEL: 'WARN',
    ...extra,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/readyz`, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { url, child };
}

export async function startUi(apiUrl: string, topK: number) {
  const port = await freePort();
  const child = startTsx('ui', 'services/ui/server/main.ts', [], {
    UI_HOST: '127.0.0.1',
    UI_PORT: String(port),
    API_URL: apiUrl,
    TOP_K: String(topK),
    LOG_LEVEL: 'WARN',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/healthz`, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { url, child };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

/** Deletes every index whose name starts with `prefix` (the alias's concrete indices); the cluster refuses wildcards. */
export async function deleteIndices(esHost: string, prefix: string): Promise<void> {
  const res = await fetch(`${esHost}/_cat/indices/${prefix}*?format=json&h=index`);
  if (!res.ok) return;
  const names = ((await res.json()) as Array<{ index: string }>)
    .map((r) => r.index)
    .filter((n) => n.startsWith(prefix));
  if (names.length > 0) await fetch(`${esHost}/${names.join(',')}`, { method: 'DELETE' });
}

export interface BrowserStack {
  env: ApiEnv;
  api: { url: string; child: Child };
  ui: { url: string; child: Child };
  page: Page;
  /** Stops what started and deletes the index and the pictures; safe to call after a failed start. */
  stop(): Promise<void>;
}

/**
 * A browser test's stack: the pictures `fill` writes into IMAGES_DIR indexed by the embedder with the tiny synthetic
 * model into a fresh index, the search-api on it, the UI server with TOP_K `topK`, and a chromium page.
 */
export async function startBrowserStack(
  name: string,
  topK: number,
  fill: (imagesDir: string) => Promise<void>,
): Promise<BrowserStack> {
  const work = await mkdtemp(path.join(os.tmpdir(), `${name}-`));
  const env: ApiEnv = {
    ES_HOST: process.env.ES_HOST ?? 'http://127.0.0.1:9200',
    ES_INDEX: `test-${name}-${randomBytes(4).toString('hex')}`,
    MODEL_DIR: await ensureSyntheticModel('tiny', path.join(os.tmpdir(), 'image-search-models', 'tiny')),
    IMAGES_DIR: path.join(work, 'images'),
    THUMBNAILS_DIR: path.join(work, 'thumbnails'),
  };
  const started: { api?: { child: Child }; ui?: { child: Child }; browser?: Browser } = {};
  const stop = async () => {
    await started.browser?.close();
    await started.ui?.child.stop();
    await started.api?.child.stop();
    await deleteIndices(env.ES_HOST, env.ES_INDEX);
    await rm(work, { recursive: true, force: true });
  };
  try {
    await mkdir(env.IMAGES_DIR, { recursive: true });
    await fill(env.IMAGES_DIR);
    await indexOnce(env, path.join(work, 'state'));
    const api = await startSearchApi(env);
    started.api = api;
    const ui = await startUi(api.url, topK);
    started.ui = ui;
    const browser = await launchChromium();
    started.browser = browser;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    return { env, api, ui, page, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How many searches the page has started (the results section's data-searches). */
export const SEARCHES_STARTED = `Number(document.querySelector('section.results')?.dataset.searches ?? 0)`;

/**
 * Page-side predicate, as a string so this file needs no DOM types: true once a search after the `after`-th has
 * finished and all `k` result pictures have loaded.
 */
export function resultsLoaded(k: number, after: number): string {
  return `(() => {
    const section = document.querySelector('section.results');
    if (!section || Number(section.dataset.searches) <= ${after} || section.getAttribute('aria-busy') === 'true') return false;
    const imgs = Array.from(document.querySelectorAll('ol.grid img'));
    return imgs.length === ${k} && imgs.every((i) => i.complete && i.naturalWidth > 0);
  })()`;
}

/** Page-side: waits until every result picture is decoded and two frames have passed, so they have been painted. */
export const AFTER_PAINT = `(async () => {
  await Promise.all(Array.from(document.querySelectorAll('ol.grid img')).map((i) => i.decode()));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return true;
})()`;
