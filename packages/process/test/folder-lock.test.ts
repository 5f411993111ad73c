// One process per folder: a live holder is refused with the caller's message, a dead or stale one is replaced, and the
// lock goes away with its process however it stops.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFolderLock, FolderLockHeldError, type FolderLockOptions } from '../src/folder-lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('../src/folder-lock.ts', import.meta.url));
const OPTS: FolderLockOptions = {
  file: 'embedder.lock',
  refusal: (holder, lock, staleSeconds) => `another embedder ${holder} holds ${lock} (stale after ${staleSeconds} s)`,
};
let dir: string;
let lock: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'folder-lock-'));
  lock = path.join(dir, 'embedder.lock');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const writeHolder = (holder: object) => writeFile(lock, JSON.stringify(holder));

describe('a folder lock', () => {
  it('is taken, touched while held and removed on release', async () => {
    const release = await acquireFolderLock(dir, { ...OPTS, heartbeatMs: 20 });
    expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual({ pid: process.pid, host: os.hostname() });
    const old = new Date(Date.now() - 30_000);
    await utimes(lock, old, old);
    await new Promise((r) => setTimeout(r, 100));
    expect((await stat(lock)).mtimeMs).toBeGreaterThan(old.getTime() + 20_000);
    await release();
    expect(existsSync(lock)).toBe(false);
  });

  it('refuses while another live process on this host holds it, naming it and what to do', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeHolder({ pid: other.pid, host: os.hostname() });
      const err = await acquireFolderLock(dir, OPTS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FolderLockHeldError);
      expect((err as Error).message).toBe(`another embedder (pid ${other.pid}) holds ${lock} (stale after 60 s)`);
    } finally {
      other.kill();
    }
  });

  it('takes over from a process of this host that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeHolder({ pid: gone, host: os.hostname() });
    const release = await acquireFolderLock(dir, OPTS);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('refuses a fresh lock from another host and takes a stale one over', async () => {
    await writeHolder({ pid: 7, host: 'embedder-2' });
    await expect(acquireFolderLock(dir, { ...OPTS, staleMs: 60_000 })).rejects.toThrow(
      'another embedder on host embedder-2 (pid 7) holds',
    );
    const old = new Date(Date.now() - 61_000);
    await utimes(lock, old, old);
    const release = await acquireFolderLock(dir, { ...OPTS, staleMs: 60_000 });
    expect(JSON.parse(await readFile(lock, 'utf8')).host).toBe(os.hostname());
    await release();
  });

  it('goes away when its process exits without releasing it (process.exit on SIGTERM)', () => {
    const script = `const { acquireFolderLock } = await import(${JSON.stringify(LOCK_MODULE)});
      await acquireFolderLock(${JSON.stringify(dir)}, { file: 'embedder.lock', refusal: () => '' });
      process.stdout.write('held'); process.exit(0);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(child.stdout).toBe('held');
    expect(existsSync(lock)).toBe(false);
  });
});
