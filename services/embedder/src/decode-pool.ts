// Decoding and preprocessing in worker threads. Preprocessing is mostly sharp (its own threads) plus a resample in
// JavaScript; on the main thread that JavaScript caps a round at roughly one core's worth of pictures, well below what
// an image tower on many cores or a GPU can take. The main thread keeps reading, hashing and deciding what to decode.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Preprocessed, PreprocessOptions, Provider } from '@image-search/clip';
import { startTsWorker } from '@image-search/process';
import { WorkerDiedError } from './worker-died.ts';

export interface DecodePool {
  size: number;
  preprocess(data: Buffer): Promise<Preprocessed>;
  close(): Promise<void>;
}

/** What crossed back from a worker when a picture could not be decoded: rebuilt with the same code and message. */
export class DecodeFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

type Reply =
  | { id: number; ok: Omit<Preprocessed, 'thumbnail'> & { thumbnail?: Uint8Array } }
  | { id: number; error: { code?: string; message: string } };

/**
 * How many decode workers suit the image tower. On the CPU the tower's threads take half the cores and the decoders
 * the rest; on a GPU the tower hardly needs a core, and decoding is what limits a round, so the decoders take all but
 * the one the main thread (reading, hashing, writing) needs. At least one, at most sixteen.
 */
export function poolSizeFor(provider: Provider, cores = os.availableParallelism()): number {
  const size = provider === 'cuda' ? cores - 1 : Math.floor(cores / 2);
  return Math.max(1, Math.min(16, size));
}

export function startDecodePool(options: PreprocessOptions, size: number): DecodePool {
  type Pending = { resolve: (p: Preprocessed) => void; reject: (e: Error) => void };
  const workers: Array<{ worker: Worker; pending: Map<number, Pending> }> = [];
  let nextId = 0;
  let dead: Error | undefined;

  for (let i = 0; i < size; i++) {
    const worker = startTsWorker(new URL('./decode-worker.ts', import.meta.url), { options });
    const pending = new Map<number, Pending>();
    const failAll = (err: Error) => {
      dead ??= err;
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
    };
    worker.on('error', (err) => failAll(new WorkerDiedError(`a decode worker failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new WorkerDiedError(`a decode worker exited (code ${code})`)));
    worker.on('message', (msg: Reply) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (!p) return;
      if ('ok' in msg) {
        const { thumbnail, ...rest } = msg.ok;
        p.resolve({ ...rest, ...(thumbnail ? { thumbnail: Buffer.from(thumbnail) } : {}) });
      } else if (msg.error.code) p.reject(new DecodeFailure(msg.error.code, msg.error.message));
      else p.reject(new Error(msg.error.message));
    });
    workers.push({ worker, pending });
  }

  return {
    size,
    preprocess(data) {
      if (dead) return Promise.reject(dead);
      // The least busy worker; the pipeline bounds how many pictures are in flight overall.
      const w = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        w.pending.set(id, { resolve, reject });
        w.worker.postMessage({ id, data });
      });
    },
    async close() {
      dead ??= new WorkerDiedError('the decode pool is closed');
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
