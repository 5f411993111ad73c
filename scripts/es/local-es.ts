// A real local Elasticsearch 8 from Maven Central artifacts: resolve the classpath with Maven (once, cached under
// .es/), compile the small launcher in java/ (once), start it detached, wait for the cluster, stop it by process group.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { int, str } from '@image-search/config';

const run = promisify(execFile);

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
const esHome = path.join(repoRoot, '.es');
const pomFile = path.join(here, 'pom.xml');
const javaSources = path.join(here, 'java');
const logConfig = path.join(here, 'log4j2.properties');
const mainClass = 'LocalElasticsearch';

export const DEFAULT_PORT = 9200;
export const DEFAULT_HEAP = '1g';

/** Environment of pnpm es:start and of the test global setup (ES_HOST itself belongs to the services' specs). */
export const localEsSpec = {
  ES_PORT: int(DEFAULT_PORT, { min: 1, max: 65_000 }),
  ES_HEAP: str(DEFAULT_HEAP, 'a JVM heap size such as 1g or 512m'),
};

/** A problem the person starting Elasticsearch can act on; the CLI prints only its message. */
export class LocalEsError extends Error {}

export interface LocalEsOptions {
  /** HTTP port of node 0; node N listens on port + N and on transport port port + 100 + N. */
  port?: number;
  nodes?: number;
  /** Folder for this instance's pid file, log and node data; default .es/port-<port>. */
  dataDir?: string;
  /** JVM heap for all nodes together, e.g. 1g or 512m. */
  heap?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface LocalEs {
  host: string;
  startedByUs: boolean;
  /** Stops the instance if this call started it; a no-op for one that was already running. */
  stop(): Promise<void>;
}

export interface EsSummary {
  version: string;
  clusterName: string;
  status: string;
  nodes: number;
}

export function hostFor(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function instanceDirFor(port: number): string {
  return path.join(esHome, `port-${port}`);
}

async function getJson(url: string, timeoutMs = 2000): Promise<{ status: number; body: unknown } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: whatever answers is not Elasticsearch
    }
    return { status: res.status, body };
  } catch {
    return null;
  }
}

function versionOf(body: unknown): string | null {
  const v = (body as { version?: { number?: unknown } } | null)?.version?.number;
  return typeof v === 'string' ? v : null;
}

/** True when host answers GET / like Elasticsearch does. */
export async function isElasticsearchUp(host: string): Promise<boolean> {
  const res = await getJson(`${host.replace(/\/+$/, '')}/`);
  return res?.status === 200 && versionOf(res.body) !== null;
}

/** Version, cluster name, health and node count of the cluster at host; null when it does not answer. */
export async function describeElasticsearch(host: string): Promise<EsSummary | null> {
  const base = host.replace(/\/+$/, '');
  const root = await getJson(`${base}/`);
  const version = root && root.status === 200 ? versionOf(root.body) : null;
  if (!version) return null;
  const health = await getJson(`${base}/_cluster/health`);
  const h = (health?.body ?? {}) as { cluster_name?: string; status?: string; number_of_nodes?: number };
  return { version, clusterName: h.cluster_name ?? '?', status: h.status ?? 'unknown', nodes: h.number_of_nodes ?? 0 };
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Writes a file so that a concurrent reader sees either nothing or the whole of it. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function requireTool(cmd: string, args: string[], missing: string): Promise<void> {
  try {
    await run(cmd, args);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LocalEsError(missing);
    throw e;
  }
}

/**
 * The Elasticsearch classpath, from .es/classpath-<pom hash>.txt when every jar in it is still in the Maven cache,
 * otherwise resolved by Maven (downloads go to ~/.m2 as usual).
 */
export async function resolveClasspath(log: (line: string) => void = () => {}): Promise<string> {
  const pom = await readFile(pomFile, 'utf8');
  const cacheFile = path.join(esHome, `classpath-${sha256(pom)}.txt`);
  if (existsSync(cacheFile)) {
    const cached = (await readFile(cacheFile, 'utf8')).trim();
    if (cached.length > 0 && cached.split(path.delimiter).every((jar) => existsSync(jar))) return cached;
  }
  await requireTool(
    'mvn',
    ['-v'],
    'Maven (mvn) is not installed: install it (Debian: apt-get install maven) so the Elasticsearch jars can be fetched',
  );
  log('resolving the Elasticsearch jars with Maven (first start only; cached in ~/.m2 and .es/)');
  await mkdir(esHome, { recursive: true });
  const out = path.join(esHome, `classpath-${process.pid}.tmp`);
  const mvn = (...extra: string[]) =>
    run('mvn', ['-q', '-B', ...extra, '-f', pomFile, 'dependency:build-classpath', `-Dmdep.outputFile=${out}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  try {
    await mvn();
  } catch (online) {
    try {
      // No network, but ~/.m2 may already hold every jar (a cleaned .es/ on an offline machine).
      await mvn('-o');
    } catch {
      const err = online as { stdout?: string; stderr?: string };
      const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
      throw new LocalEsError(
        `Maven could not resolve the Elasticsearch jars (is Maven Central reachable? Once ~/.m2 has them, no network is needed):\n${output}`,
      );
    }
  }
  await rename(out, cacheFile);
  return (await readFile(cacheFile, 'utf8')).trim();
}

async function javaSourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.java'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Compiles the launcher into .es/classes-<hash of sources and classpath>, once. */
async function compileLauncher(classpath: string, log: (line: string) => void): Promise<string> {
  const sources = await javaSourceFiles(javaSources);
  const texts = await Promise.all(sources.map((f) => readFile(f, 'utf8')));
  const out = path.join(esHome, `classes-${sha256(classpath, ...sources, ...texts)}`);
  if (existsSync(path.join(out, `${mainClass}.class`))) return out;
  await requireTool(
    'javac',
    ['-version'],
    'javac is missing: install a JDK, not only a JRE (Debian: apt-get install openjdk-17-jdk-headless)',
  );
  log('compiling the Elasticsearch launcher (first start only)');
  const tmp = `${out}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await run('javac', ['-nowarn', '-d', tmp, '-cp', classpath, ...sources], { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new LocalEsError(`javac failed on scripts/es/java:\n${(err.stderr ?? err.stdout ?? '').trim()}`);
  }
  await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
  return out;
}

async function checkJava(): Promise<void> {
  let version = '';
  try {
    const { stderr } = await run('java', ['-version']);
    version = stderr;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LocalEsError(
        'Java is not installed: Elasticsearch needs Java 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless)',
      );
    }
    throw e;
  }
  const major = Number(/version "(\d+)/.exec(version)?.[1] ?? 0);
  if (major > 0 && major < 17) {
    throw new LocalEsError(`Java ${major} is too old: Elasticsearch 8 needs Java 17 or newer (install openjdk-17)`);
  }
}

function pidFileOf(dir: string): string {
  return path.join(dir, 'elasticsearch.pid');
}

export function logFileOf(dir: string): string {
  return path.join(dir, 'elasticsearch.log');
}

/** The pid in the instance's pid file when that process is alive and is our launcher. */
export async function runningPid(dir: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFileOf(dir), 'utf8')).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(mainClass)) return null;
  } catch {
    try {
      process.kill(pid, 0);
    } catch {
      return null;
    }
  }
  return pid;
}

/** Alive and not a zombie (a zombie has exited; its parent simply has not collected it yet). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function logTail(dir: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(logFileOf(dir), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForCluster(
  host: string,
  nodes: number,
  timeoutMs: number,
  child: { exited: boolean; code: number | null },
  dir: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) {
      throw new LocalEsError(
        `Elasticsearch exited during start (code ${child.code}); last lines of ${logFileOf(dir)}:\n${await logTail(dir)}`,
      );
    }
    const res = await getJson(
      `${host}/_cluster/health?wait_for_status=yellow&wait_for_nodes=${nodes}&timeout=1s`,
      5000,
    );
    const h = res?.body as { status?: string; number_of_nodes?: number } | undefined;
    if (res?.status === 200 && (h?.status === 'green' || h?.status === 'yellow') && h.number_of_nodes === nodes) return;
    await sleep(250);
  }
  throw new LocalEsError(
    `Elasticsearch did not become healthy within ${Math.round(timeoutMs / 1000)} s; last lines of ${logFileOf(dir)}:\n${await logTail(dir)}`,
  );
}

function checkHeap(heap: string): string {
  if (!/^\d+[mMgG]$/.test(heap)) throw new LocalEsError(`ES_HEAP=${heap} is not a heap size such as 1g or 512m`);
  return heap;
}

/**
 * Starts Elasticsearch on 127.0.0.1:port (nodes on port..port+nodes-1) unless an Elasticsearch already answers there,
 * and resolves once the cluster is yellow or green with every node joined.
 */
export async function startLocalElasticsearch(opts: LocalEsOptions = {}): Promise<LocalEs> {
  const port = opts.port ?? DEFAULT_PORT;
  const nodes = opts.nodes ?? 1;
  const heap = checkHeap(opts.heap ?? DEFAULT_HEAP);
  const dir = path.resolve(opts.dataDir ?? instanceDirFor(port));
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const log = opts.log ?? (() => {});
  const host = hostFor(port);
  const notOurs: LocalEs = { host, startedByUs: false, stop: async () => {} };

  if (await isElasticsearchUp(host)) return notOurs;
  return withStartLock(port, timeoutMs, log, async () => {
    // Whoever held the lock before us may have just started it.
    if (await isElasticsearchUp(host)) return notOurs;
    return startUnlocked(port, nodes, heap, dir, timeoutMs, log, notOurs);
  });
}

/**
 * Serialises starts on one port across processes (two test runs, or a test run and pnpm es:start), so that the
 * second waits and then finds the first's node instead of racing it for the port.
 */
async function withStartLock<T>(
  port: number,
  timeoutMs: number,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(esHome, { recursive: true });
  const lock = path.join(esHome, `start-${port}.lock`);
  const deadline = Date.now() + timeoutMs + 120_000;
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      if (Date.now() > deadline)
        throw new LocalEsError(`another start on port ${port} (pid ${holder}) is taking too long`);
      if (!announced) log(`another process (pid ${holder}) is starting Elasticsearch on port ${port}; waiting for it`);
      announced = true;
      await sleep(500);
    } else {
      await rm(lock, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function startUnlocked(
  port: number,
  nodes: number,
  heap: string,
  dir: string,
  timeoutMs: number,
  log: (line: string) => void,
  notOurs: LocalEs,
): Promise<LocalEs> {
  const host = notOurs.host;
  const existing = await runningPid(dir);
  if (existing !== null) {
    // Started by someone else a moment ago and still coming up: wait for it rather than start a second one.
    log(`Elasticsearch (pid ${existing}) is starting; waiting for it`);
    await waitForCluster(host, nodes, timeoutMs, { exited: false, code: null }, dir);
    return notOurs;
  }
  for (let n = 0; n < nodes; n++) {
    for (const p of [port + n, port + 100 + n]) {
      if (await portInUse(p)) {
        throw new LocalEsError(
          `port ${p} on 127.0.0.1 is taken by something that is not Elasticsearch: stop it (see: ss -ltnp 'sport = :${p}') or choose another port (ES_PORT=9201 / --port 9201)`,
        );
      }
    }
  }

  await checkJava();
  const classpath = await resolveClasspath(log);
  const classes = await compileLauncher(classpath, log);

  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  const logHandle = await open(logFileOf(dir), 'a');
  const args = [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    `-Djava.io.tmpdir=${path.join(dir, 'tmp')}`,
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j.shutdownHookEnabled=false',
    '-cp',
    `${classes}${path.delimiter}${classpath}`,
    mainClass,
    '--nodes',
    String(nodes),
    '--http-port',
    String(port),
    '--transport-port',
    String(port + 100),
    '--data-dir',
    path.join(dir, 'nodes'),
    '--cluster-name',
    `image-search-${port}`,
    '--log-config',
    logConfig,
  ];
  let child: ChildProcess;
  try {
    // detached: its own process group, so it outlives this process and stop() can signal the whole group.
    child = spawn('java', args, { cwd: dir, detached: true, stdio: ['ignore', logHandle.fd, logHandle.fd] });
  } finally {
    await logHandle.close();
  }
  const state = { exited: false, code: null as number | null };
  child.once('exit', (code) => {
    state.exited = true;
    state.code = code;
  });
  if (child.pid === undefined) throw new LocalEsError('could not start java');
  const pid = child.pid;
  await writeAtomic(pidFileOf(dir), `${pid}\n`);
  child.unref();

  try {
    await waitForCluster(host, nodes, timeoutMs, state, dir);
  } catch (e) {
    await stopPid(pid, dir);
    throw e;
  }
  return { host, startedByUs: true, stop: () => stopPid(pid, dir) };
}

async function stopPid(pid: number, dir: string, timeoutMs = 60_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    signal('SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(100);
    if (isAlive(pid)) throw new LocalEsError(`Elasticsearch (pid ${pid}) did not exit after SIGKILL`);
  }
  await rm(pidFileOf(dir), { force: true });
}

/** Stops the instance whose pid file is in dir; 'not-running' when there is none. */
export async function stopLocalElasticsearch(
  opts: { port?: number; dataDir?: string } = {},
): Promise<'stopped' | 'not-running'> {
  const dir = path.resolve(opts.dataDir ?? instanceDirFor(opts.port ?? DEFAULT_PORT));
  const pid = await runningPid(dir);
  if (pid === null) {
    await rm(pidFileOf(dir), { force: true });
    return 'not-running';
  }
  await stopPid(pid, dir);
  return 'stopped';
}
