// One embedder per STATE_DIR: a live holder is refused with a message saying what to do, a dead or stale one is
// replaced, and the lock goes away with its process however it stops.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStateLock, StateLockHeldError } from '../src/state-lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('../src/state-lock.ts', import.meta.url));
let dir: string;
let lock: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'state-lock-'));
  lock = path.join(dir, 'embedder.lock');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const writeHolder = (holder: object) => writeFile(lock, JSON.stringify(holder));

describe('the STATE_DIR lock', () => {
  it('is taken, touched while held and removed on release', async () => {
    const release = await acquireStateLock(dir, { heartbeatMs: 20 });
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
      const err = await acquireStateLock(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateLockHeldError);
      expect((err as Error).message).toContain(`another embedder (pid ${other.pid}) is using STATE_DIR ${dir}`);
      expect((err as Error).message).toContain('give each embedder its own STATE_DIR');
    } finally {
      other.kill();
    }
  });

  it('takes over from a process of this host that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeHolder({ pid: gone, host: os.hostname() });
    const release = await acquireStateLock(dir);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('refuses a fresh lock from another host and takes a stale one over', async () => {
    await writeHolder({ pid: 7, host: 'embedder-2' });
    await expect(acquireStateLock(dir, { staleMs: 60_000 })).rejects.toThrow(
      'another embedder on host embedder-2 (pid 7) is using STATE_DIR',
    );
    const old = new Date(Date.now() - 61_000);
    await utimes(lock, old, old);
    const release = await acquireStateLock(dir, { staleMs: 60_000 });
    expect(JSON.parse(await readFile(lock, 'utf8')).host).toBe(os.hostname());
    await release();
  });

  it('goes away when its process exits without releasing it (process.exit on SIGTERM)', () => {
    const script = `const { acquireStateLock } = await import(${JSON.stringify(LOCK_MODULE)});
      await acquireStateLock(${JSON.stringify(dir)}); process.stdout.write('held'); process.exit(0);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(child.stdout).toBe('held');
    expect(existsSync(lock)).toBe(false);
  });
});
