import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planRound } from '../src/plan.ts';
import { failedRecord, indexedRecord, StateStore } from '../src/state.ts';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function freshFile(): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'embedder-state-'));
  return path.join(dir, 'state', 'images-x.jsonl');
}

describe('state journal', () => {
  it('remembers indexed and failed files, paths per id and pending orphans across reopenings', async () => {
    const file = await freshFile();
    const s = await StateStore.open(file);
    await s.commit([
      indexedRecord('a.jpg', 10, 1.5, 'id1'),
      indexedRecord('b/copy.jpg', 10, 2, 'id1'),
      failedRecord('bad.jpg', 3, 4, 'id2', 'corrupt: truncated'),
    ]);
    await s.commit([{ p: 'a.jpg', del: 1 }, { orphan: 'id1' }]);

    const again = await StateStore.open(file);
    expect(again.size).toBe(2);
    expect(again.get('bad.jpg')).toEqual({
      size: 3,
      mtimeMs: 4,
      id: 'id2',
      status: 'failed',
      reason: 'corrupt: truncated',
    });
    expect([...again.pathsOf('id1')]).toEqual(['b/copy.jpg']);
    expect(again.isIndexed('id2')).toBe(false);
    expect(again.orphans()).toEqual(['id1']);
    await again.commit([{ gone: 'id1' }]);
    expect((await StateStore.open(file)).orphans()).toEqual([]);
  });

  it('drops a line torn by a crash and keeps appending cleanly after it', async () => {
    const file = await freshFile();
    const s = await StateStore.open(file);
    await s.commit([indexedRecord('a.jpg', 1, 1, 'id1')]);
    await appendFile(file, '{"p":"b.jpg","s":2,"m');
    const reopened = await StateStore.open(file);
    expect(reopened.size).toBe(1);
    await reopened.commit([indexedRecord('c.jpg', 3, 3, 'id3')]);
    expect([...(await StateStore.open(file)).paths()].sort()).toEqual(['a.jpg', 'c.jpg']);
  });

  it('compacts a journal that has grown far past its live entries, and not otherwise', async () => {
    const file = await freshFile();
    const s = await StateStore.open(file);
    expect(await s.compactIfLarge()).toBe(false);
    for (let round = 0; round < 30; round++) {
      await s.commit(Array.from({ length: 100 }, (_, i) => indexedRecord(`f${i}.jpg`, round, round, `id${i}`)));
    }
    expect(await s.compactIfLarge()).toBe(true);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(100);
    expect((await StateStore.open(file)).get('f7.jpg')).toMatchObject({ size: 29, id: 'id7' });
  });

  it('starts empty when there is no journal', async () => {
    const file = await freshFile();
    await writeFile(path.join(dir, 'unrelated'), '');
    expect((await StateStore.open(file)).size).toBe(0);
  });
});

describe('round plan', () => {
  const state = new Map([
    ['same.jpg', { size: 1, mtimeMs: 1, id: 'a', status: 'indexed' as const }],
    ['touched.jpg', { size: 1, mtimeMs: 1, id: 'b', status: 'indexed' as const }],
    ['corrupt.jpg', { size: 5, mtimeMs: 5, id: 'c', status: 'failed' as const, reason: 'corrupt' }],
    ['gone.jpg', { size: 1, mtimeMs: 1, id: 'd', status: 'indexed' as const }],
  ]);

  it('skips unchanged and known-bad files, re-reads changed ones, and lists deleted ones', () => {
    const plan = planRound(
      [
        { path: 'same.jpg', size: 1, mtimeMs: 1 },
        { path: 'touched.jpg', size: 1, mtimeMs: 2 },
        { path: 'corrupt.jpg', size: 5, mtimeMs: 5 },
        { path: 'new.jpg', size: 9, mtimeMs: 9 },
      ],
      state,
    );
    expect(plan.unchanged).toBe(1);
    expect(plan.knownFailed).toBe(1);
    expect(plan.candidates).toEqual([
      { path: 'touched.jpg', size: 1, mtimeMs: 2, prevId: 'b' },
      { path: 'new.jpg', size: 9, mtimeMs: 9 },
    ]);
    expect(plan.deleted.map((d) => d.path)).toEqual(['gone.jpg']);
  });
});
