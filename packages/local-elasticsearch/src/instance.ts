// Start and stop local Elasticsearch instances: one detached JVM per instance (its own process group, pid file and
// log under .es/port-<port>/), a cross-process lock per port, and a wait for the cluster to turn yellow or green.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { checkJava, compileLauncher, logConfig, mainClass, resolveClasspath } from './launcher.ts';
import { getJson, isElasticsearchUp } from './probe.ts';
import { DEFAULT_HEAP, DEFAULT_PORT, esHome, hostFor, instanceDirFor, LocalEsError } from './settings.ts';

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

/** Writes a file so that a concurrent reader sees either nothing or the whole of it. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
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
