// Worker side of image-tower.ts: loads and warms up the model once, then embeds the batches it is sent, one at a time.
import { type Device, loadModel } from '@image-search/clip';
import { serveThread } from '@image-search/process';
import type { TowerReady } from './image-tower.ts';

await serveThread(async ({ dir, device, threads }: { dir: string; device?: Device; threads?: number }) => {
  const model = await loadModel(dir, { device, threads });
  // The first run of a session pays for its allocations and kernel choices: pay it before reporting ready.
  await model.warmUp();
  return {
    ready: { manifest: model.manifest, provider: model.provider } satisfies TowerReady,
    answer: (batch: Float32Array[]) => model.image.embed(batch),
    transfer: (vectors: Float32Array[]) => vectors.map((v) => v.buffer as ArrayBuffer),
  };
});
