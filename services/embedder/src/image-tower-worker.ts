// Worker side of image-tower.ts: loads and warms up the model once, then embeds the batches it is sent, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel } from '@image-search/clip';

const port = parentPort!;
const { dir, device, threads } = workerData as { dir: string; device?: 'auto' | 'cpu' | 'cuda'; threads?: number };

try {
  const model = await loadModel(dir, { device, threads });
  // The first run of a session pays for its allocations and kernel choices: pay it before reporting ready.
  await model.warmUp();
  port.on('message', async (msg: { type: 'embed'; id: number; batch: Float32Array[] }) => {
    try {
      const vectors = await model.image.embed(msg.batch);
      port.postMessage(
        { type: 'result', id: msg.id, vectors },
        vectors.map((v) => v.buffer as ArrayBuffer),
      );
    } catch (err) {
      port.postMessage({ type: 'error', id: msg.id, message: (err as Error).message });
    }
  });
  port.postMessage({ type: 'ready', manifest: model.manifest, provider: model.provider });
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message });
}
