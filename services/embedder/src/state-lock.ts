// One embedder per STATE_DIR: two would append to the same journals and compact them under each other's feet.
// The lock is a file naming its holder, touched while held, so a holder in another container (whose process cannot be
// looked up from here) counts as gone once the file goes stale, and a holder on this host once its process is gone.
import { rmSync } from 'node:fs';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class StateLockHeldError extends Error {
  override readonly name = 'StateLockHeldError';
}

export interface StateLockOptions {
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

/** Takes `<stateDir>/embedder.lock`; returns the function that releases it (also released when the process exits). */
export async function acquireStateLock(stateDir: string, opts: StateLockOptions = {}): Promise<() => Promise<void>> {
  const file = path.join(stateDir, 'embedder.lock');
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
      throw new StateLockHeldError(
        `another embedder ${who} is using STATE_DIR ${stateDir}; give each embedder its own STATE_DIR, or stop the ` +
          `other one (a lock left by a crashed embedder elsewhere frees itself ${Math.round(staleMs / 1000)} s after ` +
          `its last touch; on this host at once)`,
      );
    }
    await rm(file, { force: true });
  }
  throw new StateLockHeldError(`could not take the lock ${file}: other processes keep taking it`);
}

function held(file: string, heartbeatMs: number): () => Promise<void> {
  const touch = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined); // a missed touch only brings staleness closer
  }, heartbeatMs);
  touch.unref();
  // SIGTERM ends the embedder with process.exit, which skips finally blocks but not this.
  const onExit = () => rmSync(file, { force: true });
  process.once('exit', onExit);
  return async () => {
    clearInterval(touch);
    process.off('exit', onExit);
    await rm(file, { force: true });
  };
}
