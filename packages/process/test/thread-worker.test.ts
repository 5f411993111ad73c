// Calls across a worker thread: answers and buffers go both ways, errors keep their name, code and class, and a dead
// worker fails every call in flight and after.
import { describe, expect, it } from 'vitest';
import { startThreadWorker, WorkerDiedError } from '../src/index.ts';

class ParityError extends Error {
  override name = 'ParityError';
  declare readonly code: string;
}

const entry = new URL('./workers/calc-worker.ts', import.meta.url);
type Req = { op: 'sum'; values: Float64Array } | { op: 'odd' } | { op: 'range' } | { op: 'exit' } | { op: 'hang' };
const start = (data: { refuse?: boolean } = {}, onDied?: (err: Error) => void) =>
  startThreadWorker<Req, Float64Array, { pid: number }>(entry, data, {
    name: 'calc',
    errors: [ParityError],
    onDied,
  });

describe('thread worker', () => {
  it('answers calls, moving the buffers it is told to transfer', async () => {
    const worker = await start();
    try {
      expect(worker.ready.pid).toBe(process.pid);
      const copied = new Float64Array([1, 2]);
      expect(Array.from(await worker.call({ op: 'sum', values: copied }))).toEqual([3]);
      expect(copied.length).toBe(2);
      const moved = new Float64Array([4, 5]);
      expect(Array.from(await worker.call({ op: 'sum', values: moved }, [moved.buffer]))).toEqual([9]);
      expect(moved.length).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it('rejects with the error the worker threw: its class when listed, its name and code always', async () => {
    const worker = await start();
    try {
      const odd = await worker.call({ op: 'odd' }).catch((e: unknown) => e);
      expect(odd).toBeInstanceOf(ParityError);
      expect(odd).toMatchObject({ name: 'ParityError', code: 'odd', message: 'that number is odd' });
      await expect(worker.call({ op: 'range' })).rejects.toMatchObject({ name: 'RangeError', message: 'out of range' });
      expect(Array.from(await worker.call({ op: 'sum', values: new Float64Array([1]) }))).toEqual([1]);
    } finally {
      await worker.close();
    }
  });

  it('fails to start with the error the worker threw while starting', async () => {
    await expect(start({ refuse: true })).rejects.toMatchObject({ name: 'RangeError', message: 'no start today' });
  });

  it('fails the calls in flight and every later one when the worker dies, and says so once', async () => {
    const died: Error[] = [];
    const worker = await start({}, (err) => died.push(err));
    const hanging = worker.call({ op: 'hang' }).catch((e: unknown) => e);
    await expect(worker.call({ op: 'exit' })).rejects.toThrow(/calc worker exited \(code 3\)/);
    expect(await hanging).toBeInstanceOf(WorkerDiedError);
    await expect(worker.call({ op: 'sum', values: new Float64Array([1]) })).rejects.toBeInstanceOf(WorkerDiedError);
    expect(died).toHaveLength(1);
  });

  it('refuses calls once closed without reporting a death', async () => {
    const died: Error[] = [];
    const worker = await start({}, (err) => died.push(err));
    const hanging = worker.call({ op: 'hang' }).catch((e: Error) => e.message);
    await worker.close();
    expect(await hanging).toMatch(/closed/);
    await expect(worker.call({ op: 'odd' })).rejects.toThrow(/closed/);
    expect(died).toHaveLength(0);
  });
});
