// Worker side of query-model.ts: loads and warms up the model once, then embeds the texts and pictures it is sent; an
// uploaded picture is decoded and preprocessed here too, so a large one never holds up the thread that answers.
import { type ClipModel, type Device, loadModel, preprocessImage, preprocessOptionsFor } from '@image-search/clip';
import { createLogger } from '@image-search/log';
import { serveThread } from '@image-search/process';
import type { ModelAnswer, ModelReady, ModelRequest } from './query-model.ts';

interface Data {
  dir: string;
  device?: Device;
  threads?: number;
  logLevel?: string;
}

async function answer(model: ClipModel, req: ModelRequest): Promise<ModelAnswer> {
  if (req.type === 'text') return { vectors: await model.text.embed(req.texts), decodeMs: 0 };
  if (req.type === 'image') return { vectors: await model.image.embed(req.batch), decodeMs: 0 };
  const started = performance.now();
  const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  const picture = await preprocessImage(bytes, { ...preprocessOptionsFor(model.manifest), maxPixels: req.maxPixels });
  const decodeMs = performance.now() - started;
  return { vectors: await model.image.embed([picture.tensor]), decodeMs };
}

await serveThread(async ({ dir, device, threads, logLevel }: Data) => {
  const model = await loadModel(dir, { device, threads, logger: createLogger('search-api', { level: logLevel }) });
  await model.warmUp();
  return {
    ready: { dir: model.dir, manifest: model.manifest, provider: model.provider } satisfies ModelReady,
    answer: (req: ModelRequest) => answer(model, req),
    transfer: ({ vectors }: ModelAnswer) => vectors.map((v) => v.buffer as ArrayBuffer),
  };
});
