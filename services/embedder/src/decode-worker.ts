// Worker side of decode-pool.ts: preprocesses the pictures it is sent and hands back the tensor without copying it.
import { parentPort, workerData } from 'node:worker_threads';
import { type PreprocessOptions, preprocessImage } from '@image-search/clip';

const port = parentPort!;
const { options } = workerData as { options: PreprocessOptions };

port.on('message', async (msg: { id: number; data: Uint8Array }) => {
  try {
    const data = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    const p = await preprocessImage(data, options);
    const owns = p.tensor.byteOffset === 0 && p.tensor.byteLength === p.tensor.buffer.byteLength;
    port.postMessage({ id: msg.id, ok: p }, owns ? [p.tensor.buffer as ArrayBuffer] : []);
  } catch (err) {
    const e = err as { name?: string; code?: unknown; message?: string };
    const code = e?.name === 'ImageDecodeError' && typeof e.code === 'string' ? e.code : undefined;
    port.postMessage({ id: msg.id, error: { code, message: e?.message ?? String(err) } });
  }
});
