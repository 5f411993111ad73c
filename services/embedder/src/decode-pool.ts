// Decoding and preprocessing in worker threads. Preprocessing is mostly sharp (its own threads) plus a resample in
// JavaScript; on the main thread that JavaScript caps a round at roughly one core's worth of pictures, well below what
// an image tower on many cores or a GPU can take. The main thread keeps reading, hashing and deciding what to decode.
import os from 'node:os';
import { ImageDecodeError, type Preprocessed, type PreprocessOptions, type Provider } from '@image-search/clip';
import { startThreadWorker, type ThreadWorker, WorkerDiedError } from '@image-search/process';

export interface DecodePool {
  size: number;
  /** Rejects with clip's ImageDecodeError, code and all, when the bytes are not a picture it can decode. */
  preprocess(data: Buffer): Promise<Preprocessed>;
  close(): Promise<void>;
}

/**
 * How many decode workers suit the image tower. On the CPU the tower's threads take half the cores and the decoders
 * the rest; on a GPU the tower hardly needs a core, and decoding is what limits a round, so the decoders take all but
 * the one the main thread (reading, hashing, writing) needs. At least one, at most sixteen.
 */
export function poolSizeFor(provider: Provider, cores = os.availableParallelism()): number {
  const size = provider === 'cuda' ? cores - 1 : Math.floor(cores / 2);
  return Math.max(1, Math.min(16, size));
}

export function startDecodePool(options: PreprocessOptions, size: number): DecodePool {
  let dead: Error | undefined;
  const markDead = (err: Error) => {
    dead ??= err;
  };
  const slots = Array.from({ length: size }, () => {
    const worker = startThreadWorker<Uint8Array, Preprocessed, null>(
      new URL('./decode-worker.ts', import.meta.url),
      { options },
      { name: 'decode', errors: [ImageDecodeError], onDied: markDead },
    );
    worker.catch(markDead);
    return { worker, inFlight: 0 };
  });
  const started = (w: Promise<ThreadWorker<Uint8Array, Preprocessed, null>>) => w.catch(() => null);

  return {
    size,
    async preprocess(data) {
      if (dead) throw dead;
      // The least busy worker; the pipeline bounds how many pictures are in flight overall.
      const slot = slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      slot.inFlight++;
      try {
        const p = await (await slot.worker).call(data);
        // The thumbnail crossed as a plain Uint8Array: the same bytes as a Buffer again, without a copy.
        const t = p.thumbnail;
        return t ? { ...p, thumbnail: Buffer.from(t.buffer, t.byteOffset, t.byteLength) } : p;
      } finally {
        slot.inFlight--;
      }
    },
    async close() {
      markDead(new WorkerDiedError('the decode pool is closed'));
      await Promise.all(slots.map(async (s) => (await started(s.worker))?.close()));
    },
  };
}
