// Start and stop local RabbitMQ brokers: Debian's rabbitmq-server run as an ordinary detached process (its own process
// group, pid file, log, Mnesia data, Erlang cookie and ports under .mq/port-<port>/), a cross-process start lock per
// port, and a wait until the broker answers AMQP.
import { spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type LocalServer, runningPidFrom, startLocalServer, stopLocalServer } from '@image-search/process';
import { isRabbitMqUp } from './probe.ts';
import { DEFAULT_PORT, instanceDirFor, LocalMqError, mqHome, nodeNameFor, portsFor, urlFor } from './settings.ts';

/** Debian's broker script, without the /usr/sbin wrapper that switches to the rabbitmq user. */
export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface LocalMqOptions {
  /** AMQP port; distribution and epmd ports follow from it (portsFor). */
  port?: number;
  /** Folder for this broker's pid file, log and data; default .mq/port-<port>. */
  dataDir?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface LocalMq extends LocalServer {
  url: string;
}

const pidFileOf = (dir: string) => path.join(dir, 'rabbitmq.pid');
export const logFileOf = (dir: string) => path.join(dir, 'rabbitmq.log');

/** Where the broker in dir keeps its pid and log, and how it is stopped. */
const filesOf = (port: number, dir: string) => ({
  what: 'RabbitMQ',
  dir,
  pidFile: pidFileOf(dir),
  logFile: logFileOf(dir),
  marker: 'rabbitmq',
  stopTimeoutMs: 30_000,
  error: (m: string) => new LocalMqError(m),
  afterStop: () => killEpmd(port),
});

/** The pid in the broker's pid file when that process is alive and is the broker of this folder. */
export function runningPid(dir: string): Promise<number | null> {
  return runningPidFrom(pidFileOf(dir), 'rabbitmq');
}

/** The environment that keeps the broker inside its folder and on its own ports. */
function brokerEnv(port: number, dir: string): NodeJS.ProcessEnv {
  const ports = portsFor(port);
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    // Erlang keeps its cookie in $HOME: this broker's own, so no other node can talk to it by accident.
    HOME: dir,
    RABBITMQ_NODENAME: nodeNameFor(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'beam.pid'),
  };
}

async function writeBrokerFiles(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'log'), { recursive: true });
  // The default user guest/guest, reachable only on 127.0.0.1 anyway; no plugins (no management UI needed).
  await writeFile(path.join(dir, 'rabbitmq.conf'), 'loopback_users = none\n');
  await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
}

async function checkInstalled(): Promise<void> {
  try {
    await access(RABBITMQ_SERVER);
  } catch {
    throw new LocalMqError(`${RABBITMQ_SERVER} is missing: install Debian's broker (apt-get install rabbitmq-server)`);
  }
}

/** Starts RabbitMQ on 127.0.0.1:port unless something already answers AMQP there; resolves once it does. */
export async function startLocalRabbitMq(opts: LocalMqOptions = {}): Promise<LocalMq> {
  const port = opts.port ?? DEFAULT_PORT;
  const dir = path.resolve(opts.dataDir ?? instanceDirFor(port));
  const url = urlFor(port);
  const server = await startLocalServer({
    ...filesOf(port, dir),
    port,
    home: mqHome,
    timeoutMs: opts.timeoutMs ?? 60_000,
    log: opts.log ?? (() => {}),
    isUp: () => isRabbitMqUp(url),
    readiness: 'answer',
    ports: Object.values(portsFor(port)),
    owner: 'our RabbitMQ',
    otherPort: 'MQ_PORT=5673 / --port 5673',
    prepare: async () => {
      await checkInstalled();
      await writeBrokerFiles(dir);
      return { command: RABBITMQ_SERVER, args: [], env: brokerEnv(port, dir) };
    },
  });
  return { url, ...server };
}

/** epmd daemonises out of the broker's process group; it serves only this broker's port, so it goes with it. */
function killEpmd(port: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const epmd = spawn('epmd', ['-kill'], {
      env: { PATH: process.env.PATH, ERL_EPMD_PORT: String(portsFor(port).epmd) },
      stdio: 'ignore',
    });
    epmd.once('exit', () => resolve());
    epmd.once('error', () => resolve());
  });
}

/** Stops the broker whose pid file is in dir; 'not-running' when there is none. */
export function stopLocalRabbitMq(opts: { port?: number; dataDir?: string } = {}): Promise<'stopped' | 'not-running'> {
  const port = opts.port ?? DEFAULT_PORT;
  return stopLocalServer(filesOf(port, path.resolve(opts.dataDir ?? instanceDirFor(port))));
}
