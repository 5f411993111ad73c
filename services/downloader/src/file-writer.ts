// Puts verified downloads in place from a worker thread. Creating a file, writing its body and the rename cost the
// main thread about a third of its time a picture on tmpfs and far more on a disk (a create on ext4 can take
// hundreds of µs); in the worker they overlap with receiving the next bodies. The body crosses without a copy (its
// buffers are transferred), and the requests of one turn of the event loop cross together in one message.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '@image-search/process';

export interface CommitJob {
  outputDir: string;
  fileName: string;
  /** A body held in memory: buffers that each own their whole ArrayBuffer, transferred (and unusable here after). */
  body?: Buffer[];
  /** Or the temporary file a large body was already written to. */
  tmp?: string;
}

export interface CommitRequest extends Omit<CommitJob, 'body'> {
  id: number;
  body?: Uint8Array[];
}

export type CommitReply = { id: number; error?: { code?: string; message: string } };

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

export class FileWriter {
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private queued: CommitRequest[] = [];
  private transfer: ArrayBuffer[] = [];
  private nextId = 0;
  private dead: Error | undefined;
  private thread: Worker | undefined;

  /**
   * Starts the thread unless it runs already: a round calls it when it has something to fetch, so the thread's start
   * overlaps the first requests, and a process whose URLs are all done (a million of them) spends no memory on it.
   */
  start(): void {
    if (this.thread || this.dead) return;
    const worker = startTsWorker(new URL('./file-writer-worker.ts', import.meta.url));
    this.thread = worker;
    worker.on('message', (replies: CommitReply[]) => {
      for (const r of replies) {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (!p) continue;
        if (r.error) p.reject(new CommitError(r.error.code, r.error.message));
        else p.resolve();
      }
      // idle between bursts: the process may exit while the worker waits
      if (this.pending.size === 0) worker.unref();
    });
    const failAll = (err: Error) => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    worker.on('error', (err) => failAll(new Error(`the file writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`the file writer thread exited (code ${code})`)));
    worker.unref();
  }

  /** Resolves once the picture is in place; rejects with a CommitError (nothing left behind). */
  commit(job: CommitJob): Promise<void> {
    this.start();
    if (this.dead) return Promise.reject(this.dead);
    const worker = this.thread as Worker;
    const id = this.nextId++;
    const { body, ...rest } = job;
    const request: CommitRequest = { ...rest, id };
    if (body) {
      request.body = body;
      for (const part of body) this.transfer.push(part.buffer as ArrayBuffer);
    }
    if (this.queued.length === 0) setImmediate(() => this.send());
    this.queued.push(request);
    worker.ref();
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  async close(): Promise<void> {
    this.dead ??= new Error('the file writer is closed');
    await this.thread?.terminate();
  }

  private send(): void {
    const jobs = this.queued;
    const transfer = this.transfer;
    this.queued = [];
    this.transfer = [];
    this.thread?.postMessage(jobs, transfer);
  }
}
