// A worker for thread-worker.test.ts: sums numbers, throws on request, exits on request, or refuses to start.
import { serveThread } from '../../src/index.ts';

class ParityError extends Error {
  override name = 'ParityError';
  constructor(readonly code: string) {
    super(`that number is ${code}`);
  }
}

type Req = { op: 'sum'; values: Float64Array } | { op: 'odd' } | { op: 'range' } | { op: 'exit' } | { op: 'hang' };

await serveThread(async ({ refuse }: { refuse?: boolean }) => {
  if (refuse) throw new RangeError('no start today');
  return {
    ready: { pid: process.pid },
    async answer(req: Req): Promise<Float64Array> {
      if (req.op === 'sum') return new Float64Array([req.values.reduce((a, b) => a + b, 0)]);
      if (req.op === 'odd') throw new ParityError('odd');
      if (req.op === 'range') throw new RangeError('out of range');
      if (req.op === 'exit') process.exit(3);
      return new Promise(() => {});
    },
    transfer: (res: Float64Array) => [res.buffer as ArrayBuffer],
  };
});
