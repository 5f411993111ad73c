// The image tower in a worker thread. onnxruntime-node runs inference on the calling thread and blocks it for the
// whole batch, so on the main thread nothing else — reading, hashing, decoding, writing to Elasticsearch — could make
// progress while the model works, and the model would then wait for them. In a worker, the rest of the pipeline keeps
// the next batch ready while this one is being embedded.
import { Worker } from 'node:worker_threads';
import type { Device, ModelManifest, Provider } from '@image-search/clip';

/** The worker died or refused a batch: not something the next round would fix, so the service stops. */
export class ImageTowerError extends Error {
  override name = 'ImageTowerError';
}

export interface ImageTower {
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

/**
 * The worker runs TypeScript like this thread does: a worker inherits neither the module hooks registered here nor a
 * test runner's transform, so its entry registers tsx's loader and then imports the worker module.
 */
function workerBootstrap(): string {
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./image-tower-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

export function startImageTower(dir: string, opts: { device?: Device; threads?: number } = {}): Promise<ImageTower> {
  const worker = new Worker(workerBootstrap(), {
    eval: true,
    workerData: { dir, device: opts.device, threads: opts.threads },
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
    worker.on('error', (err) => failAll(new ImageTowerError(`the image tower worker failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new ImageTowerError(`the image tower worker exited (code ${code})`)));
    worker.on('message', (msg: Reply) => {
      if (msg.type === 'ready') {
        resolveStart({
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
            dead ??= new ImageTowerError('the image tower is closed');
            await worker.terminate();
          },
        });
      } else if (msg.type === 'failed') {
        failAll(new ImageTowerError(msg.message));
        void worker.terminate();
      } else {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.type === 'result') p?.resolve(msg.vectors);
        else p?.reject(new ImageTowerError(msg.message));
      }
    });
  });
}
