// What every locally started server (Elasticsearch, RabbitMQ) needs around its process: a start lock per port across
// processes, a free-port check, atomic pid files, and a stop that signals the whole process group and waits.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when something accepts (or silently holds) a TCP connection on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
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

/** Writes a file so that a concurrent reader sees either nothing or the whole of it. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Alive and not a zombie (a zombie has exited; its parent simply has not collected it yet). */
export function isAlive(pid: number): boolean {
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

/** The pid in pidFile when that process is alive and its command line contains `marker`. */
export async function runningPidFrom(pidFile: string, marker: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(marker)) return null;
  } catch {
    if (!isAlive(pid)) return null;
  }
  return pid;
}

export interface StartLockOptions {
  /** Folder holding start-<port>.lock. */
  dir: string;
  port: number;
  /** What is being started, for messages: 'Elasticsearch', 'RabbitMQ'. */
  what: string;
  timeoutMs: number;
  log: (line: string) => void;
  /** Thrown when another start takes too long. */
  error: (message: string) => Error;
}

/**
 * Serialises starts on one port across processes (two test runs, or a test run and a CLI start), so that the second
 * waits and then finds the first's server instead of racing it for the port.
 */
export async function withStartLock<T>(o: StartLockOptions, fn: () => Promise<T>): Promise<T> {
  await mkdir(o.dir, { recursive: true });
  const lock = path.join(o.dir, `start-${o.port}.lock`);
  const deadline = Date.now() + o.timeoutMs + 120_000;
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
      if (Date.now() > deadline) throw o.error(`another start on port ${o.port} (pid ${holder}) is taking too long`);
      if (!announced) o.log(`another process (pid ${holder}) is starting ${o.what} on port ${o.port}; waiting for it`);
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

/** SIGTERM to pid's process group (or pid alone), SIGKILL after timeoutMs; resolves once it is gone. */
export async function stopProcessGroup(pid: number, timeoutMs: number, error: (message: string) => Error) {
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
    if (isAlive(pid)) throw error(`process ${pid} did not exit after SIGKILL`);
  }
}
