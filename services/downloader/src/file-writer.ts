// Puts verified downloads in place from a worker thread. Creating a file, writing its body and the rename cost the
// main thread about a third of its time a picture on tmpfs and far more on a disk (a create on ext4 can take
// hundreds of µs); in the worker they overlap with receiving the next bodies. A body read into the shared arena is
// told by its slot; any other crosses without a copy (its buffers are transferred). Jobs go in batches: one message
// while the thread has none to work on, else they wait for its reply and go together (a message costs ~15 µs a side).
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '@image-search/process';
import { BodyArena } from './body-arena.ts';
import { IN_MEMORY_BYTES } from './receive-image.ts';

export interface CommitJob {
  outputDir: string;
  fileName: string;
  /** A body held in memory: buffers that each own their whole ArrayBuffer, transferred (and unusable here after). */
  body?: Buffer[];
  /** Or the arena slot the body lies in (body[0] is its view); given back once the thread is done with it. */
  lent?: number;
  /** Or the temporary file a large body was already written to. */
  tmp?: string;
}

export interface CommitRequest {
  id: number;
  outputDir: string;
  fileName: string;
  body?: Uint8Array[];
  /** The body is bytes [slot × slotBytes, + length) of the arena. */
  slot?: number;
  length?: number;
  tmp?: string;
}

export type CommitReply = { id: number; error?: { code?: string; message: string } };

export interface WriterThreadData {
  arena: SharedArrayBuffer;
  slotBytes: number;
}

/** A commit the worker could not do, with the error code it met (ENOSPC, EACCES …). */
export class CommitError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CommitError';
  }
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  slot?: number;
}

export class FileWriter {
  private readonly pending = new Map<number, Pending>();
  private queued: CommitRequest[] = [];
  private transfer: ArrayBuffer[] = [];
  private nextId = 0;
  private dead: Error | undefined;
  private thread: Worker | undefined;
  private bodies: BodyArena | undefined;
  /** A message sent and not answered yet. */
  private busy = false;
  private scheduled = false;
  private beforeSend: (() => void) | undefined;

  /**
   * `concurrency`: downloads at once (MAX_CONCURRENCY), each holding at most one body until it is in place; the arena
   * has a slot for each, up to 64 (64 MB of address space, resident only as far as bodies fill it).
   */
  constructor(concurrency = 32) {
    this.bodySlots = Math.min(Math.max(concurrency, 1), 64);
  }

  private readonly bodySlots: number;

  /** The arena bodies are read into, once the thread runs. */
  get arena(): BodyArena | undefined {
    return this.dead ? undefined : this.bodies;
  }

  /**
   * Starts the thread unless it runs already: a round calls it when it has something to fetch, so the thread's start
   * overlaps the first requests, and a process whose URLs are all done (a million of them) spends no memory on it.
   * `beforeSend` runs before each batch goes: the journal writes the batch's lines there, before any rename.
   */
  start(beforeSend?: () => void): void {
    this.beforeSend = beforeSend;
    if (this.thread || this.dead) return;
    this.bodies = new BodyArena(this.bodySlots, IN_MEMORY_BYTES);
    const data: WriterThreadData = { arena: this.bodies.memory, slotBytes: this.bodies.slotBytes };
    const worker = startTsWorker(new URL('./file-writer-worker.ts', import.meta.url), data);
    this.thread = worker;
    worker.on('message', (replies: CommitReply[]) => {
      this.busy = false;
      for (const r of replies) {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (!p) continue;
        if (p.slot !== undefined) this.bodies?.release(p.slot);
        if (r.error) p.reject(new CommitError(r.error.code, r.error.message));
        else p.resolve();
      }
      if (this.queued.length > 0) this.send();
      // idle between bursts: the process may exit while the worker waits
      else if (this.pending.size === 0) worker.unref();
    });
    const failAll = (err: Error) => {
      this.dead ??= err;
      for (const p of this.pending.values()) {
        if (p.slot !== undefined) this.bodies?.release(p.slot);
        p.reject(this.dead);
      }
      this.pending.clear();
      this.queued = [];
      this.transfer = [];
    };
    worker.on('error', (err) => failAll(new Error(`the file writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`the file writer thread exited (code ${code})`)));
    worker.unref();
  }

  /** Resolves once the picture is in place; rejects with a CommitError (nothing left behind). */
  commit(job: CommitJob): Promise<void> {
    this.start(this.beforeSend);
    if (this.dead) {
      if (job.lent !== undefined) this.bodies?.release(job.lent);
      return Promise.reject(this.dead);
    }
    const worker = this.thread as Worker;
    const id = this.nextId++;
    const request: CommitRequest = { id, outputDir: job.outputDir, fileName: job.fileName };
    if (job.tmp !== undefined) request.tmp = job.tmp;
    else if (job.lent !== undefined && job.body) {
      request.slot = job.lent;
      request.length = job.body[0].length;
    } else if (job.body) {
      request.body = job.body;
      for (const part of job.body) this.transfer.push(part.buffer as ArrayBuffer);
    }
    this.queued.push(request);
    if (!this.busy && !this.scheduled) {
      // the other commits of this turn go with it
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.busy && this.queued.length > 0) this.send();
      });
    }
    worker.ref();
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, slot: job.lent }));
  }

  async close(): Promise<void> {
    this.dead ??= new Error('the file writer is closed');
    await this.thread?.terminate();
  }

  private send(): void {
    if (!this.thread || this.dead) return;
    const jobs = this.queued;
    const transfer = this.transfer;
    this.queued = [];
    this.transfer = [];
    try {
      this.beforeSend?.();
    } catch (err) {
      // the journal could not be written (a full disk): these pictures must not appear without their lines
      for (const job of jobs) {
        const p = this.pending.get(job.id);
        this.pending.delete(job.id);
        if (p?.slot !== undefined) this.bodies?.release(p.slot);
        p?.reject(err as Error);
      }
      return;
    }
    this.busy = true;
    this.thread.postMessage(jobs, transfer);
  }
}
