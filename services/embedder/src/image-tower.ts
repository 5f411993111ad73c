// The image tower in a worker thread. onnxruntime-node runs inference on the calling thread and blocks it for the
// whole batch, so on the main thread nothing else — reading, hashing, decoding, writing to Elasticsearch — could make
// progress while the model works, and the model would then wait for them. In a worker, the rest of the pipeline keeps
// the next batch ready while this one is being embedded.
import path from 'node:path';
import type { Device, ModelManifest, Provider } from '@image-search/clip';
import { startThreadWorker, WorkerDiedError } from '@image-search/process';

export interface ImageTower {
  /** The model folder, absolute. */
  dir: string;
  manifest: ModelManifest;
  provider: Provider;
  embed(batch: Float32Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface TowerReady {
  manifest: ModelManifest;
  provider: Provider;
}

export async function startImageTower(
  dir: string,
  opts: { device?: Device; threads?: number } = {},
): Promise<ImageTower> {
  const worker = await startThreadWorker<Float32Array[], Float32Array[], TowerReady>(
    new URL('./image-tower-worker.ts', import.meta.url),
    { dir, device: opts.device, threads: opts.threads },
    { name: 'image tower' },
  );
  return {
    dir: path.resolve(dir),
    ...worker.ready,
    // Copies, not transfers: callers may still hold the tensors (and some are views on shared buffers). A batch the
    // model refuses is not something the next round would fix either, so it ends the service like a dead worker.
    embed: (batch) =>
      worker.call(batch).catch((err: Error) => {
        throw err instanceof WorkerDiedError ? err : new WorkerDiedError(err.message);
      }),
    close: () => worker.close(),
  };
}
