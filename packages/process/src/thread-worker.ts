// Request and answer over a worker thread, both sides: the worker starts (loads a model, say) and says it is ready,
// then answers each call; errors come back under their own name, and as instances of the classes the caller lists;
// if the worker dies, every call in flight and every later one fails with WorkerDiedError.
import { parentPort, type Transferable, workerData } from 'node:worker_threads';
import { startTsWorker } from './ts-worker.ts';

/** The worker died, failed to start or was closed: calls to it cannot succeed any more. */
export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}

/** An error as it crosses the thread boundary. */
interface WireError {
  name: string;
  message: string;
  code?: unknown;
}

type Message<Ready, Res> =
  | { type: 'ready'; ready: Ready }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; value: Res }
  | { type: 'error'; id: number; error: WireError };

// biome-ignore lint/suspicious/noExplicitAny: any constructor of an Error subclass, whatever its parameters
type ErrorClass = abstract new (...args: any[]) => Error;

function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(code !== undefined ? { code } : {}) };
}

/** The error again, as an instance of the listed class of that name (so `instanceof` holds), else as an Error. */
function fromWire(wire: WireError, classes: readonly ErrorClass[]): Error {
  const cls = classes.find((c) => c.name === wire.name);
  const err: Error = cls ? Object.create(cls.prototype) : new Error(wire.message);
  Object.assign(err, { name: wire.name, message: wire.message });
  if (wire.code !== undefined) Object.assign(err, { code: wire.code });
  if (cls) Error.captureStackTrace(err, fromWire);
  return err;
}

export interface ThreadWorker<Req, Res, Ready> {
  /** What the worker reported when it became ready. */
  readonly ready: Ready;
  /** Calls sent and not yet answered. */
  readonly inFlight: number;
  /** `transfer` moves those buffers to the worker instead of copying them; the caller must not use them after. */
  call(req: Req, transfer?: readonly Transferable[]): Promise<Res>;
  close(): Promise<void>;
}

export interface ThreadWorkerOptions {
  /** For messages: "the image tower worker exited (code 1)". */
  name: string;
  /** Error classes the worker may throw that callers tell apart with `instanceof`. */
  errors?: readonly ErrorClass[];
  /** Called once if the worker dies after it became ready (not when it is closed). */
  onDied?(err: WorkerDiedError): void;
}

/**
 * Starts `entry` (a module that calls serveThread) and resolves once it is ready; rejects with the worker's own error
 * (its name and message kept) when it cannot start.
 */
export function startThreadWorker<Req, Res, Ready>(
  entry: URL,
  data: unknown,
  opts: ThreadWorkerOptions,
): Promise<ThreadWorker<Req, Res, Ready>> {
  const classes = opts.errors ?? [];
  const worker = startTsWorker(entry, data);
  const pending = new Map<number, { resolve(v: Res): void; reject(e: Error): void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let started = false;

  return new Promise((resolveStart, rejectStart) => {
    const die = (err: Error, closing = false) => {
      if (dead) return;
      dead = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!started) rejectStart(err);
      else if (!closing && err instanceof WorkerDiedError) opts.onDied?.(err);
    };
    worker.on('error', (err) => die(new WorkerDiedError(`the ${opts.name} worker failed: ${err.message}`)));
    worker.on('exit', (code) => die(new WorkerDiedError(`the ${opts.name} worker exited (code ${code})`)));
    worker.on('message', (msg: Message<Ready, Res>) => {
      if (msg.type === 'ready') {
        started = true;
        resolveStart({
          ready: msg.ready,
          get inFlight() {
            return pending.size;
          },
          call(req, transfer) {
            if (dead) return Promise.reject(dead);
            const id = nextId++;
            return new Promise((resolve, reject) => {
              pending.set(id, { resolve, reject });
              worker.postMessage({ id, req }, transfer);
            });
          },
          async close() {
            die(new WorkerDiedError(`the ${opts.name} is closed`), true);
            await worker.terminate();
          },
        });
      } else if (msg.type === 'failed') {
        die(fromWire(msg.error, classes));
        void worker.terminate();
      } else {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.type === 'result') p?.resolve(msg.value);
        else p?.reject(fromWire(msg.error, classes));
      }
    });
  });
}

export interface ThreadService<Req, Res, Ready> {
  ready: Ready;
  answer(req: Req): Promise<Res>;
  /** Buffers of the answer to move to the caller rather than copy. */
  transfer?(res: Res): Transferable[];
}

/**
 * The worker side: `start` receives the workerData and does the slow setup once; a throw there is the start failure
 * the caller sees. Calls are answered as they come, concurrently when `answer` awaits.
 */
export async function serveThread<Data, Req, Res, Ready>(
  start: (data: Data) => Promise<ThreadService<Req, Res, Ready>>,
): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('serveThread runs in a worker thread');
  let service: ThreadService<Req, Res, Ready>;
  try {
    service = await start(workerData as Data);
  } catch (err) {
    port.postMessage({ type: 'failed', error: toWire(err) });
    return;
  }
  port.on('message', async ({ id, req }: { id: number; req: Req }) => {
    try {
      const value = await service.answer(req);
      port.postMessage({ type: 'result', id, value }, service.transfer?.(value) ?? []);
    } catch (err) {
      port.postMessage({ type: 'error', id, error: toWire(err) });
    }
  });
  port.postMessage({ type: 'ready', ready: service.ready });
}
