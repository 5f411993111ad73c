// kill -9 at several moments of a round, then one more run: every picture indexed exactly once, all remembered.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createClient, existingIds } from '@image-search/search-index';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state.ts';
import { colourPicture, ES_HOST, processEnv, repoRoot, tinyModelDir, uniqueAlias, workDirs } from './fixtures.ts';

const client = createClient({ ES_HOST });
const cleanup: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const c of cleanup) await c();
  await client.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function journalLines(stateDir: string): Promise<number> {
  try {
    let n = 0;
    for (const f of await readdir(stateDir)) {
      if (f.endsWith('.jsonl')) n += (await readFile(path.join(stateDir, f), 'utf8')).split('\n').length - 1;
    }
    return n;
  } catch {
    return 0;
  }
}

function startEmbedder(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null> } {
  // node itself (not the tsx wrapper, which runs the program in a second process) so SIGKILL hits the embedder.
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/embedder/src/main.ts', '--once'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

describe('embedder killed with SIGKILL', () => {
  it('completes on the next run with no duplicates and no misses', async () => {
    const dirs = await workDirs('crash');
    const alias = uniqueAlias('crash');
    cleanup.push(
      () => rm(dirs.root, { recursive: true, force: true }),
      async () => {
        const names = Object.keys(await client.indices.get({ index: `${alias}*`, ignore_unavailable: true }));
        if (names.length > 0) await client.indices.delete({ index: names });
      },
    );
    const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'white'] as const;
    const ids = new Set<string>();
    for (let i = 0; i < 240; i++) {
      const data = await colourPicture(colours[i % colours.length], i);
      ids.add(createHash('sha256').update(data).digest('hex'));
      await writeFile(path.join(dirs.images, `p${i}.png`), data);
    }
    const env = processEnv(dirs, alias, await tinyModelDir());

    // Kill when the journal has grown by a few lines each time: mid-batch, mid-write, between ack and journal.
    let killed = 0;
    for (const grow of [1, 20, 45]) {
      const start = await journalLines(dirs.state);
      const { child, exited } = startEmbedder(env);
      let done = false;
      void exited.then(() => {
        done = true;
      });
      while (!done && (await journalLines(dirs.state)) < start + grow) await sleep(5);
      if (!done) {
        child.kill('SIGKILL');
        killed++;
      }
      await exited;
    }
    expect(killed).toBeGreaterThan(0);
    expect(await journalLines(dirs.state)).toBeLessThan(240);

    const last = startEmbedder(env);
    let stderr = '';
    last.child.stderr?.on('data', (d) => {
      stderr += d;
    });
    expect(await last.exited, stderr).toBe(0);

    const [index] = Object.keys(await client.indices.get({ index: `${alias}-*` }));
    await client.indices.refresh({ index });
    expect((await client.count({ index })).count).toBe(ids.size);
    expect((await existingIds(client, index, [...ids])).size).toBe(ids.size);
    const store = await StateStore.open(path.join(dirs.state, `${index}.jsonl`));
    expect(store.size).toBe(240);
    expect([...store.entries()].every(([, s]) => s.status === 'indexed' && ids.has(s.id))).toBe(true);
  });
});
