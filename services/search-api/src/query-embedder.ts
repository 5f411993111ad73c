// Turns query text and pictures into vectors: text through the LRU cache, model runs through the bounded queue,
// identical text queries that arrive together share one model run, and text queries waiting for a model slot are
// run together as one batch (per query, a batch of 8 costs a fraction of eight single runs).
import type { ModelManifest } from '@image-search/clip';
import type { InferenceQueue } from './inference-queue.ts';
import { queryCacheLookups } from './metrics.ts';
import { type LruCache, normaliseQuery } from './query-cache.ts';

/** What the API needs of a loaded CLIP model (a @image-search/clip ClipModel satisfies it). */
export interface QueryModel {
  dir: string;
  manifest: ModelManifest;
  provider: 'cpu' | 'cuda';
  text: { embed(texts: string[]): Promise<Float32Array[]> };
  image: {
    embed(batch: Float32Array[]): Promise<Float32Array[]>;
    /**
     * Decodes an uploaded picture (at most maxPixels), preprocesses it as the model wants and embeds it; rejects with
     * clip's ImageDecodeError when the bytes cannot be read as a picture or have too many pixels.
     */
    embedPicture(bytes: Buffer, maxPixels: number): Promise<PictureEmbedding>;
  };
  close(): Promise<void>;
}

export interface PictureEmbedding {
  vector: Float32Array;
  /** Decoding and preprocessing, in ms. */
  decodeMs: number;
}

export interface Embedding {
  vector: Float32Array;
  cached: boolean;
  /** Model time in ms (0 when cached). */
  embedMs: number;
  /** Time spent waiting for a free model slot, in ms. */
  queueMs: number;
}

/**
 * Why a text's own request for a slot is withdrawn. One shared reason: abort() without one builds a DOMException,
 * stack and all, for every query.
 */
const TAKEN_BY_BATCH = new Error('answered by an earlier batch');

/** Most text queries run as one batch; larger batches raise the latency of each for little extra throughput. */
export const MAX_TEXT_BATCH = 8;

interface PendingText {
  key: string;
  queuedAt: number;
  /** Aborted when a batch takes this text, so its own request for a slot leaves the queue. */
  taken: AbortController;
  resolve(e: Embedding): void;
  reject(err: unknown): void;
}

export class QueryEmbedder {
  private readonly inFlight = new Map<string, Promise<Embedding>>();
  private readonly pendingTexts: PendingText[] = [];

  constructor(
    readonly model: QueryModel,
    readonly queue: InferenceQueue,
    readonly cache: LruCache<string, Float32Array>,
  ) {}

  async text(text: string): Promise<Embedding> {
    const key = normaliseQuery(text);
    const hit = this.cache.get(key);
    queryCacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    if (hit) return { vector: hit, cached: true, embedMs: 0, queueMs: 0 };
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const run = this.embedTextBatched(key).then((e) => {
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

  /**
   * Each text query asks the queue for a slot; whichever slot comes free first takes up to MAX_TEXT_BATCH of the
   * waiting texts, so a query may be answered by an earlier slot's batch. Its own request then leaves the queue:
   * left there, answered queries would count as waiting and a steady load would fill the queue with them.
   */
  private embedTextBatched(key: string): Promise<Embedding> {
    return new Promise<Embedding>((resolve, reject) => {
      const entry: PendingText = { key, queuedAt: performance.now(), taken: new AbortController(), resolve, reject };
      this.pendingTexts.push(entry);
      this.queue
        .run(() => this.runTextBatch(), entry.taken.signal)
        .catch((err) => {
          // Refused a slot (queue full, shutting down): answer this query unless a batch already took it.
          const at = this.pendingTexts.indexOf(entry);
          if (at >= 0) {
            this.pendingTexts.splice(at, 1);
            reject(err);
          }
        });
    });
  }

  private async runTextBatch(): Promise<void> {
    const batch = this.pendingTexts.splice(0, MAX_TEXT_BATCH);
    if (batch.length === 0) return;
    for (const b of batch) b.taken.abort(TAKEN_BY_BATCH);
    const started = performance.now();
    try {
      const vectors = await this.model.text.embed(batch.map((b) => b.key));
      const embedMs = performance.now() - started;
      batch.forEach((b, i) => {
        b.resolve({ vector: vectors[i], cached: false, embedMs, queueMs: started - b.queuedAt });
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  /**
   * An uploaded picture, decoded and embedded beside the model: decoding takes its model slot too, so the queue bounds
   * the uploads being decoded as it bounds the queries waiting for the model. `embedMs` leaves the decoding out.
   */
  async picture(bytes: Buffer, maxPixels: number): Promise<Embedding & { decodeMs: number }> {
    const queued = performance.now();
    let started = queued;
    const { vector, decodeMs } = await this.queue.run(() => {
      started = performance.now();
      return this.model.image.embedPicture(bytes, maxPixels);
    });
    const embedMs = performance.now() - started - decodeMs;
    return { vector, cached: false, decodeMs, embedMs, queueMs: started - queued };
  }
}
