// Where a stored picture came from. The downloader records every outcome in its journal,
// <IMAGES_DIR>/.downloader/records.jsonl (one JSON line per outcome, the latest line for a URL winning, written before
// the picture appears); pictures stored by earlier versions also have a sidecar, <IMAGES_DIR>/.downloader/files/
// <name>.json, read first so they keep the URL they were given.
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Only files the downloader stores (top level of IMAGES_DIR) have a source; hand-dropped pictures get null. */
export async function readSourceUrl(imagesDir: string, relPath: string): Promise<string | null> {
  if (relPath.includes('/')) return null;
  const fromSidecar = await readSidecar(imagesDir, relPath);
  if (fromSidecar !== undefined) return fromSidecar;
  // as with an unreadable sidecar: the picture is indexed without its source rather than not at all
  return journalOf(imagesDir)
    .urlOf(relPath)
    .catch(() => null);
}

/** The sidecar's URL; undefined when there is no sidecar (the journal then says). */
async function readSidecar(imagesDir: string, relPath: string): Promise<string | null | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(imagesDir, '.downloader', 'files', `${relPath}.json`), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const raw = JSON.parse(text) as { url?: unknown };
    return typeof raw.url === 'string' ? raw.url : null;
  } catch {
    return null; // a sidecar being rewritten is replaced atomically, so a bad one is just not ours to trust
  }
}

/** A done line starts like this (the downloader writes its fields in this order); sticky, to test it in place. */
const DONE_LINE = /\{"key":"[0-9a-f]{16}","status":"done",/y;
const KEY_AT = '{"key":"'.length;
/** A stored file is named `<key><ext>`, the key being 16 hex digits of sha1(url). */
const STORED_NAME = /^[0-9a-f]{16}\.[a-z]+$/;
const READ_BLOCK = 1 << 20;

/**
 * Where each key's latest done line starts, kept as numbers (no string a file): the first 13 hex digits of the key map
 * to the offset packed with the last 3 digits. The rare key whose first 13 digits another key has goes to `clashes`.
 */
class OffsetsByKey {
  private readonly byHead = new Map<number, number>();
  private readonly clashes = new Map<string, number>();

  set(key: string, at: number): void {
    const head = Number.parseInt(key.slice(0, 13), 16);
    const tail = Number.parseInt(key.slice(13, 16), 16);
    const had = this.byHead.get(head);
    if (had === undefined || had % 4096 === tail) this.byHead.set(head, at * 4096 + tail);
    else this.clashes.set(`${key.slice(0, 8)}${key.slice(8, 16)}`, at);
  }

  get(key: string): number | undefined {
    const clash = this.clashes.get(key);
    if (clash !== undefined) return clash;
    const had = this.byHead.get(Number.parseInt(key.slice(0, 13), 16));
    return had !== undefined && had % 4096 === Number.parseInt(key.slice(13, 16), 16)
      ? Math.floor(had / 4096)
      : undefined;
  }

  delete(key: string): void {
    this.clashes.delete(key);
    if (this.get(key) !== undefined) this.byHead.delete(Number.parseInt(key.slice(0, 13), 16));
  }
}

/**
 * Where in the journal each stored file's latest done line starts, read on demand and from where it stopped last time
 * (a picture's line is written before the picture appears, so a file not found yet is in the lines added since). Only
 * offsets are kept, by key (~50 bytes a file, a million lines read in ~1 s); a lookup reads its one line. A compaction
 * (the journal rewritten and renamed over) is noticed by the file's identity and starts the reading over.
 */
class JournalUrls {
  private offsets = new OffsetsByKey();
  private readUpTo = 0;
  private identity = '';
  /** Catch-ups run one after another: one already running may have passed the end before a new line was written. */
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async urlOf(name: string): Promise<string | null> {
    if (!STORED_NAME.test(name)) return null;
    const key = name.slice(0, 16);
    for (let attempt = 0; attempt < 2; attempt++) {
      let at = this.offsets.get(key);
      if (at === undefined) {
        await this.catchUp();
        at = this.offsets.get(key);
      }
      if (at === undefined) return null;
      const record = await this.lineAt(at);
      if (record?.file === name && record.status === 'done') return typeof record.url === 'string' ? record.url : null;
      // the journal was compacted since its offsets were read: read it again
      this.identity = '';
      this.offsets.delete(key);
    }
    return null;
  }

  private catchUp(): Promise<void> {
    const run = this.catchingUp.then(() => this.readNewLines());
    this.catchingUp = run.catch(() => {}); // the caller gets the error; the next catch-up still runs
    return run;
  }

  private async readNewLines(): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.file);
    } catch {
      return; // no journal (yet): nothing stored by the downloader
    }
    const identity = `${info.dev}:${info.ino}`;
    if (identity !== this.identity || info.size < this.readUpTo) {
      this.offsets = new OffsetsByKey();
      this.readUpTo = 0;
      this.identity = identity;
    }
    const fh = await open(this.file, 'r');
    try {
      const block = Buffer.allocUnsafe(READ_BLOCK);
      let carry = '';
      let carryAt = this.readUpTo;
      for (;;) {
        const { bytesRead } = await fh.read(block, 0, READ_BLOCK, this.readUpTo);
        if (bytesRead === 0) break;
        this.readUpTo += bytesRead;
        const text = carry + block.toString('latin1', 0, bytesRead);
        let lineStart = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', lineStart)) {
          this.remember(text, lineStart, carryAt + lineStart);
          lineStart = nl + 1;
        }
        carry = text.slice(lineStart);
        carryAt += lineStart;
      }
      // a line still being written is read again next time
      this.readUpTo = carryAt;
    } finally {
      await fh.close();
    }
  }

  /** Notes the line starting at `start` in `text` (`at` in the file) when it is a done line. */
  private remember(text: string, start: number, at: number): void {
    DONE_LINE.lastIndex = start;
    if (DONE_LINE.test(text)) this.offsets.set(text.slice(start + KEY_AT, start + KEY_AT + 16), at);
  }

  private async lineAt(at: number): Promise<{ file?: unknown; status?: unknown; url?: unknown } | undefined> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.file, 'r');
    } catch {
      return undefined;
    }
    try {
      let text = '';
      for (let from = at; ; from += 4096) {
        const { buffer, bytesRead } = await fh.read(Buffer.allocUnsafe(4096), 0, 4096, from);
        const nl = buffer.subarray(0, bytesRead).indexOf(0x0a);
        text += buffer.toString('latin1', 0, nl === -1 ? bytesRead : nl);
        if (nl !== -1 || bytesRead === 0) break;
      }
      return JSON.parse(Buffer.from(text, 'latin1').toString('utf8'));
    } catch {
      return undefined;
    } finally {
      await fh.close();
    }
  }
}

const journals = new Map<string, JournalUrls>();

function journalOf(imagesDir: string): JournalUrls {
  let j = journals.get(imagesDir);
  if (!j) {
    j = new JournalUrls(path.join(imagesDir, '.downloader', 'records.jsonl'));
    journals.set(imagesDir, j);
  }
  return j;
}

const MIME: Record<string, string> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heif: 'image/heif',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  bmp: 'image/bmp',
};

export function mimeOf(format: string): string {
  return MIME[format.toLowerCase()] ?? `image/${format.toLowerCase()}`;
}
