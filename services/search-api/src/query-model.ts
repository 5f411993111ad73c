// The CLIP model in a worker thread. onnxruntime-node blocks the thread that runs an inference for all of it (10–40 ms
// per text batch on rn50), so on the main thread no other request — a cached query, /healthz, a file — could be
// answered meanwhile. In a worker the event loop stays free and only the queries that need the model wait for it. An
// uploaded picture is decoded there too: Pillow's resample in JS takes milliseconds of this thread for a large photo.
import {
  type Device,
  ImageDecodeError,
  type ImageDecodeErrorCode,
  type ModelManifest,
  type Provider,
} from '@image-search/clip';
import { startTsWorker } from '@image-search/process';
import type { PictureEmbedding, QueryModel } from './query-embedder.ts';

export interface QueryModelOptions {
  device?: Device;
  threads?: number;
  /** LOG_LEVEL for the worker's own lines (model loaded, CUDA fallback). */
  logLevel?: string;
  /** Called once if the worker dies while serving: the API cannot answer queries any more. */
  onDied?(err: Error): void;
}

type Reply =
  | { type: 'ready'; dir: string; manifest: ModelManifest; provider: Provider }
  | { type: 'failed'; name: string; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[]; decodeMs?: number }
  | { type: 'error'; id: number; name: string; message: string; code?: ImageDecodeErrorCode };

export type ModelRequest = { id: number } & (
  | { type: 'text'; texts: string[] }
  | { type: 'image'; batch: Float32Array[] }
  | { type: 'picture'; bytes: Uint8Array; maxPixels: number }
);

interface Result {
  vectors: Float32Array[];
  decodeMs: number;
}

/**
 * An error from the worker, under its original name (ModelDirError, DeviceUnavailableError, RangeError …); a picture
 * that could not be decoded is an ImageDecodeError again, with its code, so the caller can answer 4xx.
 */
function workerError(name: string, message: string, code?: ImageDecodeErrorCode): Error {
  if (name === 'ImageDecodeError' && code) return new ImageDecodeError(code, message);
  const err = new Error(message);
  err.name = name;
  return err;
}

/**
 * Starts the worker, which loads the model from `dir` and warms it up; resolves once it can answer, rejects with the
 * loader's own message (bad model folder, DEVICE=cuda without CUDA) when it cannot.
 */
export function startQueryModel(dir: string, opts: QueryModelOptions = {}): Promise<QueryModel> {
  const worker = startTsWorker(new URL('./query-model-worker.ts', import.meta.url), {
    dir,
    device: opts.device,
    threads: opts.threads,
    logLevel: opts.logLevel,
  });

  const pending = new Map<number, { resolve(r: Result): void; reject(e: Error): void }>();
  let nextId = 0;
  let ready = false;
  let dead: Error | undefined;

  const send = (req: ModelRequest): Promise<Result> => {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      pending.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  };

  return new Promise((resolveStart, rejectStart) => {
    const die = (err: Error) => {
      if (dead) return;
      dead = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (ready) opts.onDied?.(err);
      else rejectStart(err);
    };
    worker.on('error', (err) => die(new Error(`the model worker failed: ${err.message}`)));
    worker.on('exit', (code) => die(new Error(`the model worker exited (code ${code})`)));
    worker.on('message', (msg: Reply) => {
      if (msg.type === 'ready') {
        ready = true;
        resolveStart({
          dir: msg.dir,
          manifest: msg.manifest,
          provider: msg.provider,
          text: { embed: (texts) => send({ type: 'text', id: nextId++, texts }).then((r) => r.vectors) },
          image: {
            // Copied, not transferred: the caller still owns the tensor (and the upload's bytes, which may share
            // Node's buffer pool with other data).
            embed: (batch) => send({ type: 'image', id: nextId++, batch }).then((r) => r.vectors),
            embedPicture: (bytes, maxPixels) =>
              send({ type: 'picture', id: nextId++, bytes, maxPixels }).then(
                (r): PictureEmbedding => ({ vector: r.vectors[0], decodeMs: r.decodeMs }),
              ),
          },
          async close() {
            dead ??= new Error('the model is closed');
            await worker.terminate();
          },
        });
      } else if (msg.type === 'failed') {
        die(workerError(msg.name, msg.message));
        void worker.terminate();
      } else {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.type === 'result') p?.resolve({ vectors: msg.vectors, decodeMs: msg.decodeMs ?? 0 });
        else p?.reject(workerError(msg.name, msg.message, msg.code));
      }
    });
  });
}
