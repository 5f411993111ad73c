// Start and stop local RabbitMQ brokers: Debian's rabbitmq-server run as an ordinary detached process (its own process
// group, pid file, log, Mnesia data, Erlang cookie and ports under .mq/port-<port>/), a cross-process start lock per
// port, and a wait until the broker answers AMQP.
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { portInUse, runningPidFrom, sleep, stopProcessGroup, withStartLock, writeAtomic } from '@image-search/process';
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

export interface LocalMq {
  url: string;
  startedByUs: boolean;
  /** Stops the broker if this call started it; a no-op for one that was already running. */
  stop(): Promise<void>;
}

const pidFileOf = (dir: string) => path.join(dir, 'rabbitmq.pid');
export const logFileOf = (dir: string) => path.join(dir, 'rabbitmq.log');

/** The pid in the broker's pid file when that process is alive and is the broker of this folder. */
export function runningPid(dir: string): Promise<number | null> {
  return runningPidFrom(pidFileOf(dir), 'rabbitmq');
}

async function logTail(dir: string, lines = 30): Promise<string> {
  const text = await readFile(logFileOf(dir), 'utf8').catch(() => '(no log)');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
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
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const log = opts.log ?? (() => {});
  const url = urlFor(port);
  const notOurs: LocalMq = { url, startedByUs: false, stop: async () => {} };

  if (await isRabbitMqUp(url)) return notOurs;
  const lock = { dir: mqHome, port, what: 'RabbitMQ', timeoutMs, log, error: (m: string) => new LocalMqError(m) };
  return withStartLock(lock, async () => {
    if (await isRabbitMqUp(url)) return notOurs;
    return startUnlocked(port, dir, timeoutMs, log, notOurs);
  });
}

async function startUnlocked(
  port: number,
  dir: string,
  timeoutMs: number,
  log: (line: string) => void,
  notOurs: LocalMq,
): Promise<LocalMq> {
  const existing = await runningPid(dir);
  if (existing !== null) {
    log(`RabbitMQ (pid ${existing}) is starting; waiting for it`);
    await waitForBroker(notOurs.url, timeoutMs, { exited: false, code: null }, dir);
    return notOurs;
  }
  for (const p of Object.values(portsFor(port))) {
    if (await portInUse(p)) {
      throw new LocalMqError(
        `port ${p} on 127.0.0.1 is taken by something that is not our RabbitMQ: stop it (see: ss -ltnp 'sport = :${p}') or choose another port (MQ_PORT=5673 / --port 5673)`,
      );
    }
  }
  await checkInstalled();
  await writeBrokerFiles(dir);
  const logHandle = await open(logFileOf(dir), 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group (the script, beam and its helpers), so stop() can signal all of them.
    child = spawn(RABBITMQ_SERVER, [], {
      cwd: dir,
      env: brokerEnv(port, dir),
      detached: true,
      stdio: ['ignore', logHandle.fd, logHandle.fd],
    });
  } finally {
    await logHandle.close();
  }
  const state = { exited: false, code: null as number | null };
  child.once('exit', (code) => {
    state.exited = true;
    state.code = code;
  });
  if (child.pid === undefined) throw new LocalMqError(`could not start ${RABBITMQ_SERVER}`);
  const pid = child.pid;
  await writeAtomic(pidFileOf(dir), `${pid}\n`);
  child.unref();
  try {
    await waitForBroker(notOurs.url, timeoutMs, state, dir);
  } catch (e) {
    await stopPid(pid, port, dir);
    throw e;
  }
  return { url: notOurs.url, startedByUs: true, stop: () => stopPid(pid, port, dir) };
}

async function waitForBroker(
  url: string,
  timeoutMs: number,
  child: { exited: boolean; code: number | null },
  dir: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) {
      throw new LocalMqError(
        `RabbitMQ exited during start (code ${child.code}); last lines of ${logFileOf(dir)}:\n${await logTail(dir)}`,
      );
    }
    if (await isRabbitMqUp(url)) return;
    await sleep(250);
  }
  throw new LocalMqError(
    `RabbitMQ did not answer within ${Math.round(timeoutMs / 1000)} s; last lines of ${logFileOf(dir)}:\n${await logTail(dir)}`,
  );
}

async function stopPid(pid: number, port: number, dir: string): Promise<void> {
  await stopProcessGroup(pid, 30_000, (m) => new LocalMqError(`RabbitMQ: ${m}`));
  // epmd daemonises out of the broker's process group; it serves only this broker's port, so it goes with it.
  await new Promise<void>((resolve) => {
    const epmd = spawn('epmd', ['-kill'], {
      env: { PATH: process.env.PATH, ERL_EPMD_PORT: String(portsFor(port).epmd) },
      stdio: 'ignore',
    });
    epmd.once('exit', () => resolve());
    epmd.once('error', () => resolve());
  });
  await rm(pidFileOf(dir), { force: true });
}

/** Stops the broker whose pid file is in dir; 'not-running' when there is none. */
export async function stopLocalRabbitMq(
  opts: { port?: number; dataDir?: string } = {},
): Promise<'stopped' | 'not-running'> {
  const port = opts.port ?? DEFAULT_PORT;
  const dir = path.resolve(opts.dataDir ?? instanceDirFor(port));
  const pid = await runningPid(dir);
  if (pid === null) {
    await rm(pidFileOf(dir), { force: true });
    return 'not-running';
  }
  await stopPid(pid, port, dir);
  return 'stopped';
}
