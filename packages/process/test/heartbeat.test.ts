// The health check the containers run (src/health-check.ts heartbeat FILE) against a real Heartbeat: healthy while
// idle or advancing, unhealthy once a round stops advancing or the process stops.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Heartbeat } from '../src/heartbeat.ts';

const CHECK = fileURLToPath(new URL('../src/health-check.ts', import.meta.url));
// Long enough that starting the check's node process on a busy machine does not make a fresh beat look stale.
const STALE_MS = 1500;
let dir: string;
let file: string;
let beat: Heartbeat;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'heartbeat-'));
  file = path.join(dir, 'heartbeat.json');
  beat = new Heartbeat(file, { staleAfterMs: STALE_MS, minIntervalMs: 20 });
});
afterEach(async () => {
  await beat.stop();
  await rm(dir, { recursive: true, force: true });
});

async function check(): Promise<{ healthy: boolean; says: string }> {
  await beat.flushed();
  // Asynchronously, so the heartbeat's own timer keeps running while the check's process starts (tsx takes a while).
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CHECK, 'heartbeat', file], (err, stdout) => {
      resolve({ healthy: err === null, says: stdout.trim() });
    });
  });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a heartbeat read by the container health check', () => {
  it('stays healthy while idle for longer than the staleness limit', async () => {
    beat.idle();
    await wait(STALE_MS * 1.5);
    expect(await check()).toEqual({ healthy: true, says: '' });
  });

  it('stays healthy through a long round that keeps advancing', async () => {
    beat.working();
    for (let i = 0; i < 6; i++) {
      await wait(STALE_MS / 4);
      beat.progress();
    }
    expect((await check()).healthy).toBe(true);
  });

  it('turns unhealthy when a round stops advancing, saying so', async () => {
    beat.working();
    await wait(STALE_MS * 1.5);
    const { healthy, says } = await check();
    expect(healthy).toBe(false);
    expect(says).toMatch(new RegExp(`^unhealthy: no progress in its round for \\d+ s \\(pid ${process.pid}; `));
  });

  it('turns unhealthy when the process stops', async () => {
    beat.idle();
    await beat.stop();
    expect(await check()).toEqual({
      healthy: false,
      says: `unhealthy: no heartbeat in ${file} (not started yet, or it stopped)`,
    });
  });
});
