// Worker side of decode-pool.ts: preprocesses the pictures it is sent and hands back the tensor without copying it.
import { type Preprocessed, type PreprocessOptions, preprocessImage } from '@image-search/clip';
import { serveThread } from '@image-search/process';

await serveThread(async ({ options }: { options: PreprocessOptions }) => ({
  ready: null,
  answer: (data: Uint8Array) => preprocessImage(Buffer.from(data.buffer, data.byteOffset, data.byteLength), options),
  transfer: ({ tensor }: Preprocessed) =>
    tensor.byteOffset === 0 && tensor.byteLength === tensor.buffer.byteLength ? [tensor.buffer as ArrayBuffer] : [],
}));
