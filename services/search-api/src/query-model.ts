// The CLIP model in a worker thread. onnxruntime-node blocks the thread that runs an inference for all of it (10–40 ms
// per text batch on rn50), so on the main thread no other request — a cached query, /healthz, a file — could be
// answered meanwhile. In a worker the event loop stays free and only the queries that need the model wait for it. An
// uploaded picture is decoded there too: Pillow's resample in JS takes milliseconds of this thread for a large photo.
import { type Device, ImageDecodeError, type ModelManifest, type Provider } from '@image-search/clip';
import { startThreadWorker } from '@image-search/process';
import type { QueryModel } from './query-embedder.ts';

export interface QueryModelOptions {
  device?: Device;
  threads?: number;
  /** LOG_LEVEL for the worker's own lines (model loaded, CUDA fallback). */
  logLevel?: string;
  /** Called once if the worker dies while serving: the API cannot answer queries any more. */
  onDied?(err: Error): void;
}

export type ModelRequest =
  | { type: 'text'; texts: string[] }
  | { type: 'image'; batch: Float32Array[] }
  | { type: 'picture'; bytes: Uint8Array; maxPixels: number };

export interface ModelAnswer {
  vectors: Float32Array[];
  /** Decoding and preprocessing of an uploaded picture, in ms (0 for the rest). */
  decodeMs: number;
}

export interface ModelReady {
  dir: string;
  manifest: ModelManifest;
  provider: Provider;
}

/**
 * Starts the worker, which loads the model from `dir` and warms it up; resolves once it can answer, rejects with the
 * loader's own error (ModelDirError for a bad model folder, DeviceUnavailableError for DEVICE=cuda without CUDA) when
 * it cannot. A picture that cannot be decoded comes back as clip's ImageDecodeError, so the caller can answer 4xx.
 */
export async function startQueryModel(dir: string, opts: QueryModelOptions = {}): Promise<QueryModel> {
  const worker = await startThreadWorker<ModelRequest, ModelAnswer, ModelReady>(
    new URL('./query-model-worker.ts', import.meta.url),
    { dir, device: opts.device, threads: opts.threads, logLevel: opts.logLevel },
    { name: 'model', errors: [ImageDecodeError], onDied: opts.onDied },
  );
  // Copied, not transferred: the caller still owns the tensor (and the upload's bytes, which may share Node's buffer
  // pool with other data).
  const run = (req: ModelRequest) => worker.call(req);
  return {
    ...worker.ready,
    text: { embed: (texts) => run({ type: 'text', texts }).then((r) => r.vectors) },
    image: {
      embed: (batch) => run({ type: 'image', batch }).then((r) => r.vectors),
      embedPicture: (bytes, maxPixels) =>
        run({ type: 'picture', bytes, maxPixels }).then((r) => ({ vector: r.vectors[0], decodeMs: r.decodeMs })),
    },
    close: () => worker.close(),
  };
}
