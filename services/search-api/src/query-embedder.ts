// Turns query text and pictures into vectors: text through the LRU cache, model runs through the bounded queue,
// and identical text queries that arrive together share one model run.
import type { ModelManifest } from '@image-search/clip';
import type { InferenceQueue } from './inference-queue.ts';
import { type LruCache, normaliseQuery } from './query-cache.ts';

/** What the API needs of a loaded CLIP model (a @image-search/clip ClipModel satisfies it). */
export interface QueryModel {
  dir: string;
  manifest: ModelManifest;
  provider: 'cpu' | 'cuda';
  text: { embed(texts: string[]): Promise<Float32Array[]> };
  image: { embed(batch: Float32Array[]): Promise<Float32Array[]> };
  close(): Promise<void>;
}

export interface Embedding {
  vector: Float32Array;
  cached: boolean;
  /** Model time in ms (0 when cached). */
  embedMs: number;
  /** Time spent waiting for a free model slot, in ms. */
  queueMs: number;
}

export class QueryEmbedder {
  private readonly inFlight = new Map<string, Promise<Embedding>>();

  constructor(
    readonly model: QueryModel,
    readonly queue: InferenceQueue,
    readonly cache: LruCache<string, Float32Array>,
  ) {}

  async text(text: string): Promise<Embedding> {
    const key = normaliseQuery(text);
    const hit = this.cache.get(key);
    if (hit) return { vector: hit, cached: true, embedMs: 0, queueMs: 0 };
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const run = this.runModel(() => this.model.text.embed([key])).then((e) => {
      this.cache.set(key, e.vector);
      return e;
    });
    this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(key);
    }
  }

  image(tensor: Float32Array): Promise<Embedding> {
    return this.runModel(() => this.model.image.embed([tensor]));
  }

  private async runModel(fn: () => Promise<Float32Array[]>): Promise<Embedding> {
    const queued = performance.now();
    let started = queued;
    const [vector] = await this.queue.run(() => {
      started = performance.now();
      return fn();
    });
    return { vector, cached: false, embedMs: performance.now() - started, queueMs: started - queued };
  }
}
