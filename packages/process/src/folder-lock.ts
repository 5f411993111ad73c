// One process per folder it owns (the downloader's output, the embedder's state): two would rewrite the same journal
// under each other's feet. The lock is a file naming its holder, touched while held, so a holder in another container
// (whose process cannot be looked up from here) counts as gone once the file goes stale, and a holder on this host as
// soon as its process is gone.
import { rmSync } from 'node:fs';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class FolderLockHeldError extends Error {
  override readonly name = 'FolderLockHeldError';
}

export interface FolderLockOptions {
  /** The lock file's name in the folder. */
  file: string;
  /**
   * The refusal, for a person: `holder` reads "(pid 42)" or "on host embedder-2 (pid 7)", `lock` is the file's path,
   * `staleSeconds` how long a lock left by a crash elsewhere keeps others out.
   */
  refusal(holder: string, lock: string, staleSeconds: number): string;
  /** How often the holder touches the lock (default 10 s). */
  heartbeatMs?: number;
  /** A lock untouched for this long is taken over (default 60 s). */
  staleMs?: number;
}

interface Holder {
  pid?: number;
  host?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dir>/<file>`; returns the function that releases it (also released when the process exits). */
export async function acquireFolderLock(dir: string, opts: FolderLockOptions): Promise<() => Promise<void>> {
  const file = path.join(dir, opts.file);
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const staleMs = opts.staleMs ?? 60_000;
  const me: Holder = { pid: process.pid, host: os.hostname() };
  for (let tries = 0; tries < 3; tries++) {
    try {
      await writeFile(file, JSON.stringify(me), { flag: 'wx' });
      return held(file, heartbeatMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const [text, st] = await Promise.all([readFile(file, 'utf8').catch(() => ''), stat(file).catch(() => null)]);
    if (!st) continue; // released between our two looks
    let holder: Holder = {};
    try {
      holder = JSON.parse(text) as Holder;
    } catch {} // a lock being written: judged by its age alone
    const fresh = Date.now() - st.mtimeMs < staleMs;
    const here = holder.host === me.host;
    const live = here ? holder.pid !== me.pid && holder.pid !== undefined && alive(holder.pid) : fresh;
    if (fresh && live) {
      const who = `${here ? '' : `on host ${holder.host ?? 'unknown'} `}(pid ${holder.pid ?? 'unknown'})`;
      throw new FolderLockHeldError(opts.refusal(who, file, Math.round(staleMs / 1000)));
    }
    await rm(file, { force: true });
  }
  throw new FolderLockHeldError(`could not take the lock ${file}: other processes keep taking it`);
}

function held(file: string, heartbeatMs: number): () => Promise<void> {
  const touch = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined); // a missed touch only brings staleness closer
  }, heartbeatMs);
  touch.unref();
  // A service that ends with process.exit (on SIGTERM) skips finally blocks, but not this.
  const onExit = () => rmSync(file, { force: true });
  process.once('exit', onExit);
  return async () => {
    clearInterval(touch);
    process.off('exit', onExit);
    await rm(file, { force: true });
  };
}
