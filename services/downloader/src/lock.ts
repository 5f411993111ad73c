// One downloader per output folder: two would clean each other's temporary files and interleave journal rewrites.
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class LockHeldError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/lock`, replacing a lock whose process is gone (or was on another machine, where liveness cannot be
 * checked; a restarted container gets a new host name). Returns the function that releases it.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'lock');
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname() });
  for (let tries = 0; tries < 2; tries++) {
    try {
      await writeFile(file, mine, { flag: 'wx' });
      return async () => {
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(await readFile(file, 'utf8'));
    } catch {}
    const sameHost = holder.host === os.hostname();
    if (sameHost && holder.pid && holder.pid !== process.pid && alive(holder.pid)) {
      throw new LockHeldError(
        `another downloader (pid ${holder.pid}) is already writing to ${path.dirname(dir)}; if that process is not a downloader, remove ${file}`,
      );
    }
    await rm(file, { force: true });
  }
  throw new LockHeldError(`could not take the lock ${file}`);
}
