// The embedding pipeline for one round's new and changed files:
//   read + hash + (already indexed?) + decode/preprocess   — concurrent, bounded by `slots`
//     → batches of BATCH_SIZE → model                     — one batch at a time, never waiting on disk when avoidable
//       → thumbnails + one _bulk request + state journal  — while the model embeds the next batch
// State is recorded only after Elasticsearch acknowledged a document, so a crash anywhere loses nothing.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Preprocessed } from '@image-search/clip';
import type { Logger, Progress } from '@image-search/log';
import { mimeOf, readSource } from '@image-search/picture-store';
import { WorkerDiedError } from '@image-search/process';
import type { BulkOp, BulkResult } from '@image-search/search-index';
import pLimit from 'p-limit';
import { IdChecker } from './id-check.ts';
import { type EmbeddedFacts, pictureFacts, readEmbeddedFacts } from './picture-facts.ts';
import type { Candidate } from './plan.ts';
import { AsyncQueue, Semaphore } from './queue.ts';
import { failedRecord, indexedRecord, type StateRecord, type StateStore } from './state.ts';
import { thumbnailName, writeThumbnail } from './thumbnails.ts';

export interface PipelineDeps {
  imagesDir: string;
  thumbnailsDir: string;
  batchSize: number;
  /** Model name recorded in each document, e.g. 'RN50/openai'. */
  model: string;
  store: StateStore;
  preprocess(data: Buffer): Promise<Preprocessed>;
  embed(batch: Float32Array[]): Promise<Float32Array[]>;
  /** Bulk write to the model's index; waits out Elasticsearch outages itself. */
  write(ops: BulkOp[]): Promise<BulkResult>;
  /** Which ids the model's index already holds; waits out outages itself. */
  existing(ids: string[]): Promise<Set<string>>;
  logger: Logger;
  progress?: Progress;
  /** Files read, hashed and decoded at once (default 4). */
  concurrency?: number;
  /** Told what became of each candidate's path once that is settled (the work queue acks on it). */
  onSettled?(path: string, outcome: PathOutcome): void;
}

/** What became of one candidate path: a failure has a reason a person can act on; an error is retried later. */
export type PathOutcome =
  | { status: 'indexed' }
  | { status: 'failed'; reason: string }
  | { status: 'vanished' }
  | { status: 'error'; reason: string };

export interface PipelineCounts {
  /** Pictures run through the model and written. */
  embedded: number;
  /** Files whose bytes another path already holds (no model call, no write). */
  duplicates: number;
  /** Files whose document the index already had (state lost or rebuilt). */
  alreadyIndexed: number;
  /** Corrupt or unsupported files, or documents the index refused: recorded with a reason. */
  failed: number;
  /** Files gone between the scan and the read (picked up as deleted next round). */
  vanished: number;
  /** Unexpected errors (retried next round). */
  errors: number;
  modelMs: number;
}

interface FileRead {
  c: Candidate;
  size: number;
  mtimeMs: number;
  id: string;
}

interface Decoded extends FileRead {
  pre: Preprocessed;
  embedded: EmbeddedFacts;
}

/** What a resolved id meant for every path in this round that holds its bytes. */
type Outcome = { status: 'indexed' } | { status: 'failed'; reason: string };

/** Files are read whole to be hashed and decoded; anything bigger than this is not a picture worth a round's memory. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

const DECODE_CODES = new Set(['corrupt', 'unsupported', 'too_large', 'empty']);

/** The clip package's ImageDecodeError (corrupt, unsupported, too large, empty), as a reason to record. */
function decodeFailure(err: unknown): string | null {
  const e = err as { name?: string; code?: unknown; message?: string };
  if (e && typeof e.code === 'string' && DECODE_CODES.has(e.code)) return `${e.code}: ${e.message ?? ''}`.trim();
  return null;
}

function recordsFor(f: FileRead, outcome: Outcome): StateRecord[] {
  const out: StateRecord[] = [
    outcome.status === 'indexed'
      ? indexedRecord(f.c.path, f.size, f.mtimeMs, f.id)
      : failedRecord(f.c.path, f.size, f.mtimeMs, f.id, outcome.reason),
  ];
  if (f.c.prevId && f.c.prevId !== f.id) out.push({ orphan: f.c.prevId });
  return out;
}

export async function embedCandidates(deps: PipelineDeps, candidates: Candidate[]): Promise<PipelineCounts> {
  const counts: PipelineCounts = {
    embedded: 0,
    duplicates: 0,
    alreadyIndexed: 0,
    failed: 0,
    vanished: 0,
    errors: 0,
    modelMs: 0,
  };
  const { store, logger, batchSize } = deps;
  const concurrency = deps.concurrency ?? 4;
  // Files in flight between "start reading" and "handed to the model": enough to fill the next batch while the model
  // runs this one, few enough to bound memory (one tensor is 3×S×S floats).
  const slots = new Semaphore(2 * batchSize + concurrency);
  const limit = pLimit(concurrency);
  const decoded = new AsyncQueue<Decoded>();
  const embedded = new AsyncQueue<{ items: Decoded[]; vectors: Float32Array[] }>(1);
  const checker = new IdChecker((ids) => deps.existing(ids));
  /** id → other paths of this round waiting on the first one's outcome. */
  const primaries = new Map<string, FileRead[]>();
  let fatal: unknown;

  const fail = (err: unknown) => {
    fatal ??= err;
    decoded.close();
    embedded.close();
  };

  /** Settles an id for its first path and every path waiting on it; returns the journal records to write. */
  const settle = (f: FileRead, outcome: Outcome): StateRecord[] => {
    const followers = primaries.get(f.id) ?? [];
    primaries.delete(f.id);
    if (outcome.status === 'failed') counts.failed += 1 + followers.length;
    else counts.duplicates += followers.length;
    deps.progress?.add(1 + followers.length);
    for (const x of [f, ...followers]) deps.onSettled?.(x.c.path, outcome);
    return [f, ...followers].flatMap((x) => recordsFor(x, outcome));
  };

  const readAndHash = async (c: Candidate): Promise<{ f: FileRead; data: Buffer } | null> => {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path.join(deps.imagesDir, c.path), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      const data = await fh.readFile();
      const id = createHash('sha256').update(data).digest('hex');
      return { f: { c, size: st.size, mtimeMs: st.mtimeMs, id }, data };
    } finally {
      await fh.close();
    }
  };

  /** Returns true when the file was handed on to the model (its slot is then released by the model stage). */
  const prepare = async (c: Candidate): Promise<boolean> => {
    if (c.size > MAX_FILE_BYTES) {
      // Not read at all (no picture we can decode is this big): recorded, so it is not looked at again until it changes.
      const reason = `too_large: ${c.size} bytes, over the ${MAX_FILE_BYTES} a picture may have`;
      store.record(recordsFor({ c, size: c.size, mtimeMs: c.mtimeMs, id: '' }, { status: 'failed', reason }));
      deps.onSettled?.(c.path, { status: 'failed', reason });
      counts.failed++;
      deps.progress?.add(1);
      return false;
    }
    const read = await readAndHash(c);
    if (!read) {
      deps.onSettled?.(c.path, { status: 'vanished' });
      counts.vanished++;
      deps.progress?.add(1);
      return false;
    }
    const { f, data } = read;
    if (store.isIndexed(f.id)) {
      store.record(recordsFor(f, { status: 'indexed' }));
      deps.onSettled?.(c.path, { status: 'indexed' });
      counts.duplicates++;
      deps.progress?.add(1);
      return false;
    }
    const waiting = primaries.get(f.id);
    if (waiting) {
      waiting.push(f);
      return false;
    }
    primaries.set(f.id, []);
    if (await checker.has(f.id)) {
      counts.alreadyIndexed++;
      store.record(settle(f, { status: 'indexed' }));
      return false;
    }
    let pre: Preprocessed;
    try {
      pre = await deps.preprocess(data);
    } catch (err) {
      const reason = decodeFailure(err);
      if (!reason) throw err;
      logger.warn({ path: c.path, reason }, 'skipping a picture that cannot be decoded');
      store.record(settle(f, { status: 'failed', reason }));
      return false;
    }
    await decoded.push({ ...f, pre, embedded: await readEmbeddedFacts(data, pre.format) });
    return true;
  };

  const feed = async () => {
    const tasks: Promise<void>[] = [];
    for (const c of candidates) {
      await slots.acquire();
      if (fatal) {
        slots.release();
        break;
      }
      tasks.push(
        limit(() => prepare(c)).then(
          (handedOn) => {
            if (!handedOn) slots.release();
          },
          (err) => {
            slots.release();
            if (err instanceof WorkerDiedError) fail(err);
            if (fatal) return;
            counts.errors++;
            deps.progress?.add(1);
            deps.onSettled?.(c.path, { status: 'error', reason: (err as Error).message ?? String(err) });
            logger.error({ path: c.path, err }, 'could not process a file; it will be retried next round');
          },
        ),
      );
    }
    await Promise.all(tasks);
    decoded.close();
  };

  const runModel = async () => {
    for (;;) {
      const items = await decoded.takeUpTo(batchSize);
      if (items.length === 0) break;
      for (let i = 0; i < items.length; i++) slots.release();
      const t0 = performance.now();
      const vectors = await deps.embed(items.map((d) => d.pre.tensor));
      counts.modelMs += performance.now() - t0;
      for (const d of items) d.pre.tensor = new Float32Array(0); // free the tensor while the batch waits to be written
      await embedded.push({ items, vectors });
    }
    embedded.close();
  };

  const writeBatches = async () => {
    for (;;) {
      const [batch] = await embedded.takeUpTo(1);
      if (!batch) break;
      await writeBatch(batch.items, batch.vectors);
    }
  };

  const writeBatch = async (items: Decoded[], vectors: Float32Array[]) => {
    const indexedAt = new Date().toISOString();
    const ops: BulkOp[] = await Promise.all(
      items.map(async (d, i) => {
        if (d.pre.thumbnail) await writeThumbnail(deps.thumbnailsDir, d.id, d.pre.thumbnail);
        const source = await readSource(deps.imagesDir, d.c.path);
        return {
          id: d.id,
          doc: {
            path: d.c.path,
            vector: Array.from(vectors[i]),
            source_url: source?.url ?? null,
            content_type: mimeOf(d.pre.format),
            model: deps.model,
            indexed_at: indexedAt,
            thumbnail: d.pre.thumbnail ? thumbnailName(d.id) : null,
            ...pictureFacts({
              path: d.c.path,
              width: d.pre.width,
              height: d.pre.height,
              format: d.pre.format,
              bytes: d.size,
              source,
              modifiedAt: new Date(d.mtimeMs),
              embedded: d.embedded,
            }),
          },
        };
      }),
    );
    const result = await deps.write(ops);
    const refused = new Map(result.failed.map((f) => [f.id, f]));
    const records: StateRecord[] = [];
    for (const d of items) {
      const r = refused.get(d.id);
      if (r) logger.error({ path: d.c.path, id: d.id, status: r.status, reason: r.reason }, 'index refused a document');
      else counts.embedded++;
      records.push(
        ...settle(d, r ? { status: 'failed', reason: `index ${r.status}: ${r.reason}` } : { status: 'indexed' }),
      );
    }
    await store.commit(records);
  };

  await Promise.all([feed().catch(fail), runModel().catch(fail), writeBatches().catch(fail)]);
  await store.flush();
  if (fatal) throw fatal;
  return counts;
}
