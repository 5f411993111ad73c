// Start and stop local Elasticsearch instances: one detached JVM per instance (its own process group, pid file and
// log under .es/port-<port>/), a cross-process lock per port, and a wait for the cluster to turn yellow or green.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { portInUse, runningPidFrom, sleep, stopProcessGroup, withStartLock, writeAtomic } from '@image-search/process';
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

function pidFileOf(dir: string): string {
  return path.join(dir, 'elasticsearch.pid');
}

export function logFileOf(dir: string): string {
  return path.join(dir, 'elasticsearch.log');
}

/** The pid in the instance's pid file when that process is alive and is our launcher. */
export function runningPid(dir: string): Promise<number | null> {
  return runningPidFrom(pidFileOf(dir), mainClass);
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
  const lock = { dir: esHome, port, what: 'Elasticsearch', timeoutMs, log, error: (m: string) => new LocalEsError(m) };
  return withStartLock(lock, async () => {
    // Whoever held the lock before us may have just started it.
    if (await isElasticsearchUp(host)) return notOurs;
    return startUnlocked(port, nodes, heap, dir, timeoutMs, log, notOurs);
  });
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

async function stopPid(pid: number, dir: string): Promise<void> {
  await stopProcessGroup(pid, 60_000, (m) => new LocalEsError(`Elasticsearch: ${m}`));
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
