// `pnpm stack`: the whole product as local processes, for machines without Docker. Uses ES_HOST when it answers (or
// starts the local Elasticsearch), the model in MODEL_DIR (or a tiny synthetic one, with a warning), then runs
// downloader, embedder, search-api and ui with prefixed, readable logs (pino-pretty) and state under DATA_DIR, waits
// until a search through the UI port would work and prints the address. Ctrl-C stops every child, and the
// Elasticsearch it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseEnv as parseDotenv } from 'node:util';
import { ensureSyntheticModel, readManifest } from '@image-search/clip';
import { exitOnConfigError, loadStackConfig } from '@image-search/config';
import { isElasticsearchUp, type LocalEs, startLocalElasticsearch } from '@image-search/local-elasticsearch';
import { prettyFactory } from 'pino-pretty';
import { freePort } from './free-port.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 10 * 60_000;
const STOP_GRACE_MS = 15_000;
const SIGNAL_ALONE_MS = 4_000;
const colour = process.stdout.isTTY
  ? (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m`
  : (_: number, s: string) => s;

/** The services' JSON log lines as one readable line each (the service is already in the prefix); others as they are. */
const pretty = prettyFactory({
  colorize: Boolean(process.stdout.isTTY),
  singleLine: true,
  ignore: 'pid,hostname,service,name',
  translateTime: 'SYS:HH:MM:ss.l',
});

function say(line: string): void {
  process.stdout.write(`${colour(1, '[stack]')} ${line}\n`);
}

function shout(line: string): void {
  const bar = '!'.repeat(Math.min(110, line.length + 4));
  process.stderr.write(`${colour(33, `${bar}\n! ${line}\n${bar}`)}\n`);
}

/** .env in the repository root, for what the environment does not already set (the environment wins, as in Compose). */
function loadDotenv(): void {
  const file = path.join(repoRoot, '.env');
  if (!existsSync(file)) return;
  for (const [name, value] of Object.entries(parseDotenv(readFileSync(file, 'utf8')))) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
}

async function ensureElasticsearch(host: string, dataDir: string): Promise<LocalEs | null> {
  if (await isElasticsearchUp(host)) {
    say(`using Elasticsearch at ${host}`);
    return null;
  }
  const url = new URL(host);
  if (!['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new Error(`ES_HOST=${host} does not answer; start that cluster, or unset ES_HOST to run a local one`);
  }
  const port = Number(url.port || 9200);
  say(`no Elasticsearch at ${host}: starting a local one (data in ${path.join(dataDir, 'elasticsearch')})`);
  const es = await startLocalElasticsearch({
    port,
    dataDir: path.join(dataDir, 'elasticsearch'),
    heap: process.env.ES_HEAP,
    log: (line) => say(`elasticsearch: ${line}`),
  });
  say(`Elasticsearch is up at ${es.host}`);
  return es.startedByUs ? es : null;
}

async function ensureModel(modelDir: string | undefined, dataDir: string): Promise<string> {
  if (modelDir !== undefined && existsSync(path.join(modelDir, 'model.json'))) {
    const manifest = await readManifest(modelDir);
    say(`using the model in ${modelDir} (${manifest.name}/${manifest.pretrained}, ${manifest.embedDim} dims)`);
    if (manifest.synthetic) shout(`the model in ${modelDir} is SYNTHETIC: search results are not meaningful`);
    return path.resolve(modelDir);
  }
  const dir = await ensureSyntheticModel('tiny', path.join(dataDir, 'models', 'tiny'));
  shout(
    `${modelDir ? `no model in MODEL_DIR=${modelDir}` : 'MODEL_DIR is not set'}: using the TINY SYNTHETIC model in ${dir}. ` +
      'It only knows basic colours; search results are NOT meaningful. Export a real one with scripts/export-model.py ' +
      '(or run the Docker stack) and set MODEL_DIR.',
  );
  return dir;
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

function startChild(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, tint: number): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = colour(tint, `[${name}]`.padEnd(13));
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) {
      createInterface({ input: stream }).on('line', (line) =>
        process.stdout.write(`${prefix} ${pretty(line).trimEnd()}\n`),
      );
    }
  }
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => resolve(signal ? null : code)),
  );
  say(`started ${name} (pid ${proc.pid})`);
  return { name, proc, exited };
}

async function waitForSearch(
  uiPort: number,
  headers: Record<string, string>,
  children: Child[],
  stopping: () => boolean,
): Promise<boolean> {
  const url = `http://127.0.0.1:${uiPort}/api/readyz`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastWhy = '';
  while (Date.now() < deadline && !stopping()) {
    if (children.some((c) => c.proc.exitCode !== null || c.proc.signalCode !== null)) return false;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
      if (res.ok) return true;
      const why = await res.text();
      if (why !== lastWhy) say(`waiting for search: ${res.status} ${why.slice(0, 200)}`);
      lastWhy = why;
    } catch {
      // the UI is not listening yet
    }
    await sleep(500);
  }
  return false;
}

const running = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

async function stopAll(children: Child[], es: LocalEs | null, byTerminal: boolean): Promise<void> {
  // A terminal's Ctrl-C reaches the children too (same process group): give them a moment to stop on that alone, as a
  // second signal tells the downloader to cut its in-flight downloads rather than finish them.
  if (byTerminal) {
    const until = Date.now() + SIGNAL_ALONE_MS;
    while (children.some(running) && Date.now() < until) await sleep(100);
  }
  for (const c of children.filter(running)) c.proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children.filter(running)) {
      say(`${c.name} did not stop within ${STOP_GRACE_MS / 1000} s: killing it`);
      c.proc.kill('SIGKILL');
    }
  }, STOP_GRACE_MS);
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
  if (es) {
    say('stopping the Elasticsearch this stack started');
    await es.stop();
  }
}

async function main(): Promise<void> {
  loadDotenv();
  const cfg = exitOnConfigError('stack', () => loadStackConfig());
  const dataDir = path.resolve(cfg.DATA_DIR);
  const dirs = {
    images: path.join(dataDir, 'images'),
    thumbnails: path.join(dataDir, 'thumbnails'),
    state: path.join(dataDir, 'embedder-state'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const urlFile = path.resolve(cfg.URL_FILE ?? path.join(repoRoot, 'data/image_urls.txt'));

  let stopping = false;
  let children: Child[] = [];
  let es: LocalEs | null = null;
  let stopped: Promise<void> | null = null;
  const stop = (why: string, code: number, byTerminal = false) => {
    if (stopped) return stopped;
    stopping = true;
    say(`${why}: stopping every service`);
    stopped = stopAll(children, es, byTerminal).then(() => {
      say('stopped');
      process.exit(code);
    });
    return stopped;
  };
  let signals = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signals++;
      if (signals > 1) {
        say('second signal: killing what is left');
        for (const c of children) c.proc.kill('SIGKILL');
        return;
      }
      void stop(sig, 0, sig === 'SIGINT');
    });
  }

  es = await ensureElasticsearch(cfg.ES_HOST, dataDir);
  let modelDir: string;
  try {
    modelDir = await ensureModel(cfg.MODEL_DIR, dataDir);
  } catch (err) {
    await es?.stop();
    throw err;
  }
  if (stopping) return;

  const apiHost = process.env.API_HOST || '127.0.0.1';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: cfg.LOG_LEVEL,
    ES_HOST: cfg.ES_HOST,
    ES_INDEX: cfg.ES_INDEX,
    MODEL_DIR: modelDir,
    URL_FILE: urlFile,
    OUTPUT_DIR: dirs.images,
    IMAGES_DIR: dirs.images,
    THUMBNAILS_DIR: dirs.thumbnails,
    STATE_DIR: dirs.state,
    API_HOST: apiHost,
    API_PORT: String(cfg.API_PORT),
    UI_HOST: process.env.UI_HOST || '127.0.0.1',
    UI_PORT: String(cfg.UI_PORT),
    API_URL: `http://${apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost}:${cfg.API_PORT}`,
  };
  say(`pictures and state in ${dataDir}; URL list ${urlFile}${existsSync(urlFile) ? '' : ' (missing: add one)'}`);
  // The downloader and the embedder have no HTTP server but their /metrics listener: one free port each.
  const metricsPorts = { downloader: await freePort(), embedder: await freePort() };
  const metricsEnv = (port: number) => ({ ...env, METRICS_HOST: '127.0.0.1', METRICS_PORT: String(port) });
  say(
    `metrics: http://127.0.0.1:${metricsPorts.downloader}/metrics (downloader), ` +
      `http://127.0.0.1:${metricsPorts.embedder}/metrics (embedder), /metrics on the API and UI ports`,
  );
  children = [
    startChild('downloader', 'services/downloader/src/main.ts', [], metricsEnv(metricsPorts.downloader), 36),
    startChild('embedder', 'services/embedder/src/main.ts', [], metricsEnv(metricsPorts.embedder), 35),
    startChild('search-api', 'services/search-api/src/main.ts', [], env, 32),
    startChild('ui', 'services/ui/server/main.ts', [], env, 34),
  ];
  for (const c of children) {
    void c.exited.then((code) => {
      if (!stopping) void stop(`${c.name} exited (${code === null ? 'killed' : `code ${code}`})`, 1);
    });
  }

  const credentials = cfg.UI_BASIC_AUTH && `${cfg.UI_BASIC_AUTH.user}:${cfg.UI_BASIC_AUTH.password}`;
  const uiHeaders: Record<string, string> = credentials
    ? { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }
    : {};
  if (await waitForSearch(cfg.UI_PORT, uiHeaders, children, () => stopping)) {
    say(colour(32, `ready: open http://localhost:${cfg.UI_PORT}  (API: http://localhost:${cfg.API_PORT}/docs)`));
    say('Ctrl-C stops everything');
  } else if (!stopping) {
    await stop('search did not become ready', 1);
  }
}

main().catch((err) => {
  process.stderr.write(`stack: ${(err as Error).message}\n`);
  process.exit(1);
});
