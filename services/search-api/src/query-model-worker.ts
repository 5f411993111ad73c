// Worker side of query-model.ts: loads and warms up the model once, then embeds the texts and pictures it is sent; an
// uploaded picture is decoded and preprocessed here too, so a large one never holds up the thread that answers.
import { parentPort, workerData } from 'node:worker_threads';
import {
  type ClipModel,
  type Device,
  ImageDecodeError,
  loadModel,
  preprocessImage,
  preprocessOptionsFor,
} from '@image-search/clip';
import { createLogger } from '@image-search/log';
import type { ModelRequest } from './query-model.ts';

const port = parentPort!;
const { dir, device, threads, logLevel } = workerData as {
  dir: string;
  device?: Device;
  threads?: number;
  logLevel?: string;
};
const error = (err: unknown) => ({
  name: (err as Error).name,
  message: (err as Error).message,
  ...(err instanceof ImageDecodeError ? { code: err.code } : {}),
});

async function answer(model: ClipModel, req: ModelRequest): Promise<{ vectors: Float32Array[]; decodeMs?: number }> {
  if (req.type === 'text') return { vectors: await model.text.embed(req.texts) };
  if (req.type === 'image') return { vectors: await model.image.embed(req.batch) };
  const started = performance.now();
  const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  const picture = await preprocessImage(bytes, { ...preprocessOptionsFor(model.manifest), maxPixels: req.maxPixels });
  const decodeMs = performance.now() - started;
  return { vectors: await model.image.embed([picture.tensor]), decodeMs };
}

try {
  const model = await loadModel(dir, { device, threads, logger: createLogger('search-api', { level: logLevel }) });
  await model.warmUp();
  port.on('message', async (req: ModelRequest) => {
    try {
      const { vectors, decodeMs } = await answer(model, req);
      port.postMessage(
        { type: 'result', id: req.id, vectors, decodeMs },
        vectors.map((v) => v.buffer as ArrayBuffer),
      );
    } catch (err) {
      port.postMessage({ type: 'error', id: req.id, ...error(err) });
    }
  });
  port.postMessage({ type: 'ready', dir: model.dir, manifest: model.manifest, provider: model.provider });
} catch (err) {
  port.postMessage({ type: 'failed', ...error(err) });
}
