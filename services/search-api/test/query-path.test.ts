// The pieces between a query and the model: normalisation, the LRU cache, the bounded queue, and the embedder that
// puts them together (a stand-in model counts the runs).
import { describe, expect, it } from 'vitest';
import { InferenceQueue, QueueFullError } from '../src/inference-queue.ts';
import { LruCache, normaliseQuery } from '../src/query-cache.ts';
import { QueryEmbedder } from '../src/query-embedder.ts';
import { stubModel } from './stub-server.ts';

describe('normaliseQuery', () => {
  it('folds case and whitespace as the tokenizer does', () => {
    expect(normaliseQuery('  Red\t\tCAR \n')).toBe('red car');
    expect(normaliseQuery('café')).toBe(normaliseQuery('cafe\u0301'));
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('stores nothing with capacity 0', () => {
    const c = new LruCache<string, number>(0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
  });
});

describe('InferenceQueue', () => {
  it('runs at most `concurrency` at once and refuses past `maxQueued`', async () => {
    const q = new InferenceQueue(2, 1);
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const job = () =>
      q.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
      });
    const jobs = [job(), job(), job()];
    await expect(job()).rejects.toBeInstanceOf(QueueFullError);
    expect(q.active).toBe(2);
    expect(q.queued).toBe(1);
    while (releases.length > 0 || q.active > 0) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(jobs);
    expect(peak).toBe(2);
    expect(q.active).toBe(0);
  });

  it('keeps its slot count right when a run throws, and drains before closing', async () => {
    const q = new InferenceQueue(1, 5);
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const late = q.run(() => new Promise((r) => setTimeout(() => r('done'), 20)));
    await q.drain();
    expect(await late).toBe('done');
    await expect(q.run(async () => 1)).rejects.toThrow(/shutting down/);
  });
});

describe('QueryEmbedder', () => {
  it('runs the model once per normalised query and serves repeats from the cache', async () => {
    const model = stubModel();
    const e = new QueryEmbedder(model, new InferenceQueue(2, 10), new LruCache(10));
    const first = await e.text('Red car');
    const again = await e.text('  red   CAR ');
    expect(first.cached).toBe(false);
    expect(again.cached).toBe(true);
    expect(again.vector).toBe(first.vector);
    expect(model.textCalls).toEqual([['red car']]);
  });

  it('shares one model run between identical queries that arrive together', async () => {
    const model = stubModel();
    let open!: () => void;
    model.gate.wait = new Promise((r) => {
      open = r;
    });
    const e = new QueryEmbedder(model, new InferenceQueue(1, 0), new LruCache(10));
    const a = e.text('blue');
    const b = e.text('Blue');
    open();
    await Promise.all([a, b]);
    expect(model.textCalls).toEqual([['blue']]);
  });

  it('runs the text queries that wait for a slot as one batch', async () => {
    const model = stubModel();
    let open!: () => void;
    model.gate.wait = new Promise((r) => {
      open = r;
    });
    const e = new QueryEmbedder(model, new InferenceQueue(1, 10), new LruCache(10));
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((q) => e.text(q)));
    await new Promise((r) => setTimeout(r, 10));
    open();
    const results = await all;
    expect(model.textCalls).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    expect(results.every((r) => !r.cached && r.vector.length === 4)).toBe(true);
  });

  it('does not count queries a batch already answered as waiting, so a steady load never fills the queue', async () => {
    const model = stubModel();
    const closeGate = () => {
      let open!: () => void;
      model.gate.wait = new Promise((r) => {
        open = r;
      });
      return open;
    };
    const e = new QueryEmbedder(model, new InferenceQueue(1, 8), new LruCache(0));
    const wave = (n: number) => Promise.all(Array.from({ length: 8 }, (_, i) => e.text(`wave ${n} query ${i}`)));
    const openFirst = closeGate();
    const first = e.text('first');
    const wave1 = wave(1); // fills the line of 8 behind the busy slot
    const open = closeGate(); // the batch that takes wave 1 stays in the model
    openFirst();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    expect(model.textCalls).toHaveLength(2);
    expect(e.queue.queued).toBe(0);
    const wave2 = wave(2); // would be refused if wave 1's answered requests still held their places
    model.gate.wait = null;
    open();
    await expect(Promise.all([wave1, wave2])).resolves.toHaveLength(2);
    expect(model.textCalls.map((c) => c.length)).toEqual([1, 8, 8]);
  });

  it('answers a query refused by a full queue with the queue error, and the others normally', async () => {
    const model = stubModel();
    let open!: () => void;
    model.gate.wait = new Promise((r) => {
      open = r;
    });
    const e = new QueryEmbedder(model, new InferenceQueue(1, 1), new LruCache(10));
    const first = e.text('one');
    const second = e.text('two');
    await expect(e.text('three')).rejects.toBeInstanceOf(QueueFullError);
    open();
    await expect(first).resolves.toMatchObject({ cached: false });
    await expect(second).resolves.toMatchObject({ cached: false });
    expect(model.textCalls.flat()).toEqual(['one', 'two']);
  });
});
