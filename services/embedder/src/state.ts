// The embedder's durable memory for one index: path → (size, mtime, id, status), kept as an append-only JSONL journal.
// Lines are appended only after Elasticsearch has acknowledged what they claim, so a crash at any moment leaves the
// journal behind the index, never ahead of it: the next run redoes the missing part, and id-keyed writes are idempotent.
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface FileState {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the bytes = the document id ('' when the file could not be read). */
  id: string;
  status: 'indexed' | 'failed';
  reason?: string;
}

/** One journal line. */
export type StateRecord =
  | { p: string; s: number; m: number; id: string; st: 'i' }
  | { p: string; s: number; m: number; id: string; st: 'f'; r: string }
  | { p: string; del: 1 }
  /** A document that lost one of its paths: delete it, or re-point it at a path that still holds its bytes. */
  | { orphan: string }
  | { gone: string };

export function indexedRecord(p: string, size: number, mtimeMs: number, id: string): StateRecord {
  return { p, s: size, m: mtimeMs, id, st: 'i' };
}

export function failedRecord(p: string, size: number, mtimeMs: number, id: string, reason: string): StateRecord {
  return { p, s: size, m: mtimeMs, id, st: 'f', r: reason };
}

export class StateStore {
  private readonly files = new Map<string, FileState>();
  /** id → paths holding those bytes that are indexed. */
  private readonly pathsById = new Map<string, Set<string>>();
  private readonly pendingOrphans = new Set<string>();
  private lines = 0;
  private buffer: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  /** null: a store kept in memory only (a queue worker's, for one batch). */
  private constructor(readonly file: string | null) {}

  /** A store that remembers nothing past its own life: the work queue's batches, where the index is the memory. */
  static inMemory(): StateStore {
    return new StateStore(null);
  }

  /** Loads the journal (a torn last line from a crash is dropped), or starts empty. */
  static async open(file: string): Promise<StateStore> {
    const store = new StateStore(file);
    await mkdir(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      if (!line) continue;
      store.apply(JSON.parse(line) as StateRecord);
      store.lines++;
    }
    // A torn tail would glue itself to the next appended line: rewrite the journal without it.
    if (complete.length !== text.length) await store.compact();
    return store;
  }

  get size(): number {
    return this.files.size;
  }

  get(p: string): FileState | undefined {
    return this.files.get(p);
  }

  paths(): IterableIterator<string> {
    return this.files.keys();
  }

  entries(): IterableIterator<[string, FileState]> {
    return this.files.entries();
  }

  /** Indexed paths holding the bytes with this id. */
  pathsOf(id: string): ReadonlySet<string> {
    return this.pathsById.get(id) ?? new Set();
  }

  isIndexed(id: string): boolean {
    return (this.pathsById.get(id)?.size ?? 0) > 0;
  }

  orphans(): string[] {
    return [...this.pendingOrphans];
  }

  /**
   * Applies records in memory now and appends them to the journal with the next flush (within ~100 ms, or at once
   * past 1,000 lines): many small settlements — copies, files the index already had — cost one write, not one each.
   */
  record(records: StateRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) {
      this.apply(r);
      this.buffer.push(`${JSON.stringify(r)}\n`);
    }
    this.lines += records.length;
    if (this.buffer.length >= 1000) this.flushInBackground();
    else this.timer ??= setTimeout(() => this.flushInBackground(), 100);
  }

  /** Applies records and waits until they (and everything recorded before) are in the journal. */
  async commit(records: StateRecord[]): Promise<void> {
    this.record(records);
    await this.flush();
  }

  /** Writes what has been recorded, in order, in one append. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length > 0) {
      const text = this.buffer.join('');
      this.buffer = [];
      this.writing = this.writing.then(() => this.append(text));
    }
    await this.writing;
  }

  private flushInBackground(): void {
    // A failed write is not lost: `writing` stays rejected, so the next flush or commit throws it.
    this.flush().catch(() => undefined);
  }

  private async append(text: string): Promise<void> {
    if (this.file === null) return;
    const fh = await open(this.file, 'a');
    try {
      await fh.write(text);
    } finally {
      await fh.close();
    }
  }

  /** Rewrites the journal as a snapshot when it has grown well past the live entries (never on an unchanged round). */
  async compactIfLarge(): Promise<boolean> {
    await this.flush();
    const live = this.files.size + this.pendingOrphans.size;
    if (this.lines <= 2 * live + 1000) return false;
    await this.compact();
    return true;
  }

  private async compact(): Promise<void> {
    if (this.file === null) return;
    const out: string[] = [];
    for (const [p, f] of this.files) {
      const r =
        f.status === 'indexed'
          ? indexedRecord(p, f.size, f.mtimeMs, f.id)
          : failedRecord(p, f.size, f.mtimeMs, f.id, f.reason ?? '');
      out.push(JSON.stringify(r));
    }
    for (const id of this.pendingOrphans) out.push(JSON.stringify({ orphan: id }));
    const tmp = `${this.file}.tmp-${process.pid}`;
    await writeFile(tmp, out.length ? `${out.join('\n')}\n` : '', { flush: true });
    await rename(tmp, this.file);
    this.lines = out.length;
  }

  private apply(r: StateRecord): void {
    if ('orphan' in r) {
      this.pendingOrphans.add(r.orphan);
      return;
    }
    if ('gone' in r) {
      this.pendingOrphans.delete(r.gone);
      return;
    }
    const before = this.files.get(r.p);
    if (before?.status === 'indexed') this.pathsById.get(before.id)?.delete(r.p);
    if ('del' in r) {
      this.files.delete(r.p);
      return;
    }
    if (r.st === 'i') {
      this.files.set(r.p, { size: r.s, mtimeMs: r.m, id: r.id, status: 'indexed' });
      const set = this.pathsById.get(r.id) ?? new Set<string>();
      set.add(r.p);
      this.pathsById.set(r.id, set);
    } else {
      this.files.set(r.p, { size: r.s, mtimeMs: r.m, id: r.id, status: 'failed', reason: r.r });
    }
  }
}
