// Start and stop local Elasticsearch instances: one detached JVM per instance (its own process group, pid file and
// log under .es/port-<port>/), a cross-process lock per port, and a wait for the cluster to turn yellow or green.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type LocalServer, runningPidFrom, startLocalServer, stopLocalServer } from '@image-search/process';
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

export interface LocalEs extends LocalServer {
  host: string;
}

export const logFileOf = (dir: string) => path.join(dir, 'elasticsearch.log');

/** Where the instance in dir keeps its pid and log, and how it is stopped. */
const filesOf = (dir: string) => ({
  what: 'Elasticsearch',
  dir,
  pidFile: path.join(dir, 'elasticsearch.pid'),
  logFile: logFileOf(dir),
  marker: mainClass,
  stopTimeoutMs: 60_000,
  error: (m: string) => new LocalEsError(m),
});

/** The pid in the instance's pid file when that process is alive and is our launcher. */
export function runningPid(dir: string): Promise<number | null> {
  return runningPidFrom(filesOf(dir).pidFile, mainClass);
}

/** Yellow or green with every node joined. */
async function isHealthy(host: string, nodes: number): Promise<boolean> {
  const res = await getJson(`${host}/_cluster/health?wait_for_status=yellow&wait_for_nodes=${nodes}&timeout=1s`, 5000);
  const h = res?.body as { status?: string; number_of_nodes?: number } | undefined;
  return res?.status === 200 && (h?.status === 'green' || h?.status === 'yellow') && h.number_of_nodes === nodes;
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
  const log = opts.log ?? (() => {});
  const host = hostFor(port);
  const server = await startLocalServer({
    ...filesOf(dir),
    port,
    home: esHome,
    timeoutMs: opts.timeoutMs ?? 180_000,
    log,
    isUp: () => isElasticsearchUp(host),
    isReady: () => isHealthy(host, nodes),
    readiness: 'become healthy',
    ports: Array.from({ length: nodes }, (_, n) => [port + n, port + 100 + n]).flat(),
    owner: 'Elasticsearch',
    otherPort: 'ES_PORT=9201 / --port 9201',
    prepare: async () => {
      await checkJava();
      const classpath = await resolveClasspath(log);
      const classes = await compileLauncher(classpath, log);
      await mkdir(path.join(dir, 'tmp'), { recursive: true });
      return {
        command: 'java',
        args: javaArgs({ port, nodes, heap, dir, classpath: `${classes}${path.delimiter}${classpath}` }),
      };
    },
  });
  return { host, ...server };
}

function javaArgs(o: { port: number; nodes: number; heap: string; dir: string; classpath: string }): string[] {
  return [
    `-Xms${o.heap}`,
    `-Xmx${o.heap}`,
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    `-Djava.io.tmpdir=${path.join(o.dir, 'tmp')}`,
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j.shutdownHookEnabled=false',
    '-cp',
    o.classpath,
    mainClass,
    '--nodes',
    String(o.nodes),
    '--http-port',
    String(o.port),
    '--transport-port',
    String(o.port + 100),
    '--data-dir',
    path.join(o.dir, 'nodes'),
    '--cluster-name',
    `image-search-${o.port}`,
    '--log-config',
    logConfig,
  ];
}

/** Stops the instance whose pid file is in dir; 'not-running' when there is none. */
export function stopLocalElasticsearch(
  opts: { port?: number; dataDir?: string } = {},
): Promise<'stopped' | 'not-running'> {
  return stopLocalServer(filesOf(path.resolve(opts.dataDir ?? instanceDirFor(opts.port ?? DEFAULT_PORT))));
}
