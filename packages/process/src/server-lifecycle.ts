// The start/reuse/stop steps every locally started server (Elasticsearch, RabbitMQ) goes through: reuse one that already
// answers, start under the per-port lock, wait for one that another process is starting, refuse ports held by
// something else, spawn detached with a pid file and a log, wait until ready, and stop it again by its pid file.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { portInUse, runningPidFrom, sleep, stopProcessGroup, withStartLock, writeAtomic } from './local-server.ts';

export interface LocalServerFiles {
  /** What is being run, for messages: 'Elasticsearch', 'RabbitMQ'. */
  what: string;
  /** This instance's folder (its pid file, log and data). */
  dir: string;
  pidFile: string;
  logFile: string;
  /** Text in the server process's command line that tells it from an unrelated process with a recycled pid. */
  marker: string;
  stopTimeoutMs: number;
  error: (message: string) => Error;
  /** Runs after the process group is gone (e.g. a daemon that left the group). */
  afterStop?: () => Promise<void>;
}

export interface LocalServerSpec extends LocalServerFiles {
  port: number;
  /** Folder holding the start locks. */
  home: string;
  timeoutMs: number;
  log: (line: string) => void;
  /** Something of this kind answers on the port (reused as it is, never stopped by us). */
  isUp: () => Promise<boolean>;
  /** Ready to use; defaults to isUp. */
  isReady?: () => Promise<boolean>;
  /** What readiness means, for the timeout message: 'answer', 'become healthy'. */
  readiness: string;
  /** Ports that must be free before a start. */
  ports: number[];
  /** Who may hold those ports, for the refusal: 'Elasticsearch', 'our RabbitMQ'. */
  owner: string;
  /** How to choose another port, for the refusal: 'ES_PORT=9201 / --port 9201'. */
  otherPort: string;
  /** Checks and files before the spawn; returns what to run. */
  prepare: () => Promise<{ command: string; args: string[]; env?: NodeJS.ProcessEnv }>;
}

export interface LocalServer {
  startedByUs: boolean;
  /** Stops the server if this call started it; a no-op for one that was already running. */
  stop(): Promise<void>;
}

const notOurs: LocalServer = { startedByUs: false, stop: async () => {} };

function runningServerPid(s: Pick<LocalServerFiles, 'pidFile' | 'marker'>): Promise<number | null> {
  return runningPidFrom(s.pidFile, s.marker);
}

/** Starts the server unless one already answers on its port; resolves once it is ready. */
export async function startLocalServer(s: LocalServerSpec): Promise<LocalServer> {
  if (await s.isUp()) return notOurs;
  const lock = { dir: s.home, port: s.port, what: s.what, timeoutMs: s.timeoutMs, log: s.log, error: s.error };
  return withStartLock(lock, async () => {
    // Whoever held the lock before us may have just started it.
    if (await s.isUp()) return notOurs;
    return startUnlocked(s);
  });
}

async function startUnlocked(s: LocalServerSpec): Promise<LocalServer> {
  const existing = await runningServerPid(s);
  if (existing !== null) {
    // Started by someone else a moment ago and still coming up: wait for it rather than start a second one.
    s.log(`${s.what} (pid ${existing}) is starting; waiting for it`);
    await waitUntilReady(s, { exited: false, code: null });
    return notOurs;
  }
  for (const p of s.ports) {
    if (await portInUse(p)) {
      throw s.error(
        `port ${p} on 127.0.0.1 is taken by something that is not ${s.owner}: stop it (see: ss -ltnp 'sport = :${p}') or choose another port (${s.otherPort})`,
      );
    }
  }
  const { command, args, env } = await s.prepare();
  await mkdir(s.dir, { recursive: true });
  const logHandle = await open(s.logFile, 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group, so it outlives this process and stop() can signal the whole group.
    child = spawn(command, args, { cwd: s.dir, env, detached: true, stdio: ['ignore', logHandle.fd, logHandle.fd] });
  } finally {
    await logHandle.close();
  }
  const state = { exited: false, code: null as number | null };
  child.once('exit', (code) => {
    state.exited = true;
    state.code = code;
  });
  if (child.pid === undefined) throw s.error(`could not start ${command}`);
  const pid = child.pid;
  await writeAtomic(s.pidFile, `${pid}\n`);
  child.unref();
  try {
    await waitUntilReady(s, state);
  } catch (e) {
    await stopPid(s, pid);
    throw e;
  }
  return { startedByUs: true, stop: () => stopPid(s, pid) };
}

async function logTail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '(no log)');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function waitUntilReady(s: LocalServerSpec, child: { exited: boolean; code: number | null }): Promise<void> {
  const ready = s.isReady ?? s.isUp;
  const deadline = Date.now() + s.timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) {
      throw s.error(
        `${s.what} exited during start (code ${child.code}); last lines of ${s.logFile}:\n${await logTail(s.logFile)}`,
      );
    }
    if (await ready()) return;
    await sleep(250);
  }
  throw s.error(
    `${s.what} did not ${s.readiness} within ${Math.round(s.timeoutMs / 1000)} s; last lines of ${s.logFile}:\n${await logTail(s.logFile)}`,
  );
}

async function stopPid(s: LocalServerFiles, pid: number): Promise<void> {
  await stopProcessGroup(pid, s.stopTimeoutMs, (m) => s.error(`${s.what}: ${m}`));
  await s.afterStop?.();
  await rm(s.pidFile, { force: true });
}

/** Stops the server whose pid file is in its folder; 'not-running' when there is none. */
export async function stopLocalServer(s: LocalServerFiles): Promise<'stopped' | 'not-running'> {
  const pid = await runningServerPid(s);
  if (pid === null) {
    await rm(s.pidFile, { force: true });
    return 'not-running';
  }
  await stopPid(s, pid);
  return 'stopped';
}
