// Durable per-URL records: an append-only JSONL journal (<OUTPUT_DIR>/.downloader/records.jsonl), one line per outcome,
// the latest line for a URL winning; the embedder reads the source URL of each stored picture from it. A torn last line
// (a crash mid-write) is cut off at open, so a record is either whole or absent. Memory holds only a compact index
// (key → state, time, line number), about 30 bytes a URL; the journal is rewritten without superseded lines (temp
// file, fsync, rename) at round end.
import { createReadStream, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  formatRecord,
  journalFile,
  type Key64,
  parseRecord,
  type RecordFields,
  stemKey,
} from '@image-search/picture-store';
import { KeyTable } from './key-table.ts';
import { tempPathFor } from './store.ts';

export const UrlState = { Unknown: 0, Done: 1, FailedPermanent: 2, FailedTransient: 3 } as const;
export type UrlState = (typeof UrlState)[keyof typeof UrlState];

function stateOf(r: Pick<RecordFields, 'status' | 'permanent'>): UrlState {
  if (r.status === 'done') return UrlState.Done;
  return r.permanent ? UrlState.FailedPermanent : UrlState.FailedTransient;
}

function growU8(a: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size);
  b.set(a);
  return b;
}

function growU32(a: Uint32Array<ArrayBuffer>, size: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}

export class RecordJournal {
  private readonly keys = new KeyTable();
  private states = new Uint8Array(1024);
  private atSec = new Uint32Array(1024);
  private lineOf = new Uint32Array(1024);
  /** Lines in the journal file, including superseded and unreadable ones. */
  private lines = 0;
  /** Lines appended but not yet written. */
  private pending: string[] = [];
  /** Why the last write at the end of a turn failed (a full disk): thrown by the next append or flush. */
  private writeError: unknown;

  private constructor(
    readonly file: string,
    private fh: FileHandle,
  ) {}

  /** Opens (creating) the journal of the pictures in `outputDir` and loads its index. */
  static async open(outputDir: string): Promise<{ journal: RecordJournal; unreadable: number }> {
    const file = journalFile(outputDir);
    await mkdir(path.dirname(file), { recursive: true });
    const fh = await open(file, 'a+');
    await cutTornTail(fh);
    const journal = new RecordJournal(file, fh);
    const unreadable = await journal.load();
    return { journal, unreadable };
  }

  /** URLs with a record. */
  get size(): number {
    return this.keys.size;
  }

  /** Lines that a compaction would drop. */
  get superseded(): number {
    return this.lines - this.keys.size;
  }

  state(key: Key64): UrlState {
    const id = this.keys.find(key);
    return id === -1 ? UrlState.Unknown : (this.states[id] as UrlState);
  }

  /** When the URL's latest outcome happened, in ms since the epoch (0 when unknown). */
  at(key: Key64): number {
    const id = this.keys.find(key);
    return id === -1 ? 0 : this.atSec[id] * 1000;
  }

  /**
   * Records an outcome. The lines appended in one turn of the event loop reach the file in one synchronous write at its
   * end: a line is a few hundred bytes, an asynchronous write costs ~20 µs of CPU in thread-pool hand-offs and a
   * synchronous one a system call per line. Written within a turn, durable once flush() returns; a line lost in a crash
   * is a failure to try again or a picture without a record, which the next round adopts.
   */
  append(record: RecordFields): void {
    const key = stemKey(record.key);
    if (!key) throw new Error(`record key ${record.key} is not 16 hex digits`);
    if (this.writeError) throw this.writeError;
    if (this.pending.length === 0) {
      setImmediate(() => {
        try {
          this.writePending();
        } catch (err) {
          this.writeError ??= err;
        }
      });
    }
    this.pending.push(formatRecord(record));
    this.remember(key, stateOf(record), Date.parse(record.at), this.lines++);
  }

  /** Writes the lines appended so far now, not at the end of the turn: before pictures they describe appear. */
  writeAppended(): void {
    if (this.writeError) throw this.writeError;
    this.writePending();
  }

  /** Makes every appended line durable. */
  async flush(): Promise<void> {
    if (this.writeError) throw this.writeError;
    this.writePending();
    await this.fh.datasync();
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    writeAllSync(this.fh.fd, Buffer.from(text));
  }

  /** Rewrites the journal without superseded lines when they are a quarter of it or more. */
  async compactIfWorthIt(): Promise<boolean> {
    if (this.superseded === 0 || this.superseded * 4 < this.lines) return false;
    await this.compact();
    return true;
  }

  async compact(): Promise<void> {
    await this.flush();
    const tmp = tempPathFor(path.dirname(this.file), path.basename(this.file));
    const out = await open(tmp, 'w');
    try {
      let ordinal = 0;
      let kept = 0;
      let buffer: string[] = [];
      let buffered = 0;
      for await (const line of readLines(this.file)) {
        const id = this.idOfLine(line);
        if (id !== -1 && this.lineOf[id] === ordinal) {
          this.lineOf[id] = kept++;
          buffer.push(line, '\n');
          buffered += line.length;
          if (buffered > 1 << 20) {
            await out.write(buffer.join(''));
            buffer = [];
            buffered = 0;
          }
        }
        ordinal++;
      }
      await out.write(buffer.join(''));
      await out.datasync();
      await out.close();
      await rename(tmp, this.file);
      this.lines = kept;
    } catch (err) {
      await out.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    await this.fh.close();
    this.fh = await open(this.file, 'a+');
    await syncDir(path.dirname(this.file));
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh.close();
  }

  private remember(key: Key64, state: UrlState, atMs: number, line: number): void {
    const id = this.keys.add(key);
    if (id >= this.states.length) {
      const size = this.states.length * 2;
      this.states = growU8(this.states, size);
      this.atSec = growU32(this.atSec, size);
      this.lineOf = growU32(this.lineOf, size);
    }
    this.states[id] = state;
    this.atSec[id] = Number.isFinite(atMs) ? Math.floor(atMs / 1000) : 0;
    this.lineOf[id] = line;
  }

  private idOfLine(line: string): number {
    const key = stemKey(parseRecord(line)?.key ?? '');
    return key ? this.keys.find(key) : -1;
  }

  private async load(): Promise<number> {
    let unreadable = 0;
    for await (const line of readLines(this.file)) {
      const ordinal = this.lines++;
      const record = parseRecord(line);
      const key = record && stemKey(record.key);
      if (!record || !key) {
        unreadable++;
        continue;
      }
      this.remember(key, stateOf(record), Date.parse(record.at), ordinal);
    }
    return unreadable;
  }
}

function writeAllSync(fd: number, data: Buffer): void {
  for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
}

function readLines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** A crash in the middle of an append leaves a line without its newline: cut it, or the next append would join it. */
async function cutTornTail(fh: FileHandle): Promise<void> {
  const { size } = await fh.stat();
  if (size === 0) return;
  const window = Buffer.alloc(Math.min(size, 1 << 20));
  await fh.read(window, 0, window.length, size - window.length);
  if (window[window.length - 1] === 0x0a) return;
  const lastNewline = window.lastIndexOf(0x0a);
  await fh.truncate(size - window.length + lastNewline + 1);
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
