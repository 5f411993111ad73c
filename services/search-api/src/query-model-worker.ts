// Worker side of query-model.ts: loads and warms up the model once, then embeds the texts and pictures it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { type Device, loadModel } from '@image-search/clip';
import { createLogger } from '@image-search/log';
import type { ModelRequest } from './query-model.ts';

const port = parentPort!;
const { dir, device, threads, logLevel } = workerData as {
  dir: string;
  device?: Device;
  threads?: number;
  logLevel?: string;
};
const error = (err: unknown) => ({ name: (err as Error).name, message: (err as Error).message });

try {
  const model = await loadModel(dir, { device, threads, logger: createLogger('search-api', { level: logLevel }) });
  await model.warmUp();
  port.on('message', async (req: ModelRequest) => {
    try {
      const vectors = req.type === 'text' ? await model.text.embed(req.texts) : await model.image.embed(req.batch);
      port.postMessage(
        { type: 'result', id: req.id, vectors },
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
