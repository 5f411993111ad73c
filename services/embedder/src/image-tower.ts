// The image tower in a worker thread. onnxruntime-node runs inference on the calling thread and blocks it for the
// whole batch, so on the main thread nothing else — reading, hashing, decoding, writing to Elasticsearch — could make
// progress while the model works, and the model would then wait for them. In a worker, the rest of the pipeline keeps
// the next batch ready while this one is being embedded.
import path from 'node:path';
import type { Device, ModelManifest, Provider } from '@image-search/clip';
import { startTsWorker } from '@image-search/process';
import { WorkerDiedError } from './worker-died.ts';

export interface ImageTower {
  /** The model folder, absolute. */
  dir: string;
  manifest: ModelManifest;
  provider: Provider;
  embed(batch: Float32Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

type Reply =
  | { type: 'ready'; manifest: ModelManifest; provider: Provider }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

export function startImageTower(dir: string, opts: { device?: Device; threads?: number } = {}): Promise<ImageTower> {
  const worker = startTsWorker(new URL('./image-tower-worker.ts', import.meta.url), {
    dir,
    device: opts.device,
    threads: opts.threads,
  });
  const pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | undefined;

  return new Promise((resolveStart, rejectStart) => {
    const failAll = (err: Error) => {
      dead ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      rejectStart(err);
    };
    worker.on('error', (err) => failAll(new WorkerDiedError(`the image tower worker failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new WorkerDiedError(`the image tower worker exited (code ${code})`)));
    worker.on('message', (msg: Reply) => {
      if (msg.type === 'ready') {
        resolveStart({
          dir: path.resolve(dir),
          manifest: msg.manifest,
          provider: msg.provider,
          embed(batch) {
            if (dead) return Promise.reject(dead);
            const id = nextId++;
            return new Promise((resolve, reject) => {
              pending.set(id, { resolve, reject });
              // Copies, not transfers: callers may still hold the tensors (and some are views on shared buffers).
              worker.postMessage({ type: 'embed', id, batch });
            });
          },
          async close() {
            dead ??= new WorkerDiedError('the image tower is closed');
            await worker.terminate();
          },
        });
      } else if (msg.type === 'failed') {
        failAll(new WorkerDiedError(msg.message));
        void worker.terminate();
      } else {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.type === 'result') p?.resolve(msg.vectors);
        else p?.reject(new WorkerDiedError(msg.message));
      }
    });
  });
}
