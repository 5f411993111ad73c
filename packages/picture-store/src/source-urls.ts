// Where a stored picture came from, for the embedder: the URL and time of the latest done record whose file it is. The journal
// line of a picture is written before the picture appears, so a file not found yet is in the lines added since the
// last read; only byte offsets are kept, by key (~50 bytes a picture), and a lookup reads its one line again.
import { open, stat } from 'node:fs/promises';
import { parseRecord, readJournalLines } from './journal.ts';
import { journalFile, parsePictureName } from './naming.ts';

/**
 * Where each key's latest done line starts, kept as numbers (no string a picture): the first 13 hex digits of the key
 * map to the offset packed with the last 3 digits. The rare key whose first 13 digits another key has goes to `clashes`.
 */
class OffsetsByKey {
  private readonly byHead = new Map<number, number>();
  private readonly clashes = new Map<string, number>();

  set(key: string, at: number): void {
    const head = Number.parseInt(key.slice(0, 13), 16);
    const tail = Number.parseInt(key.slice(13, 16), 16);
    const had = this.byHead.get(head);
    if (had === undefined || had % 4096 === tail) this.byHead.set(head, at * 4096 + tail);
    else this.clashes.set(key, at);
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

/** Where and when the downloader got a picture: its record's URL and time. */
export interface PictureSource {
  url: string;
  /** When the downloader stored it (the record's `at`, ISO 8601). */
  at: string;
}

/**
 * The sources of one images folder, read from its journal on demand and from where the last read stopped. A
 * compaction (the journal rewritten and renamed over) is noticed by the file's identity and starts the reading over.
 */
export class SourceUrls {
  private offsets = new OffsetsByKey();
  private readUpTo = 0;
  private identity = '';
  /** Catch-ups run one after another: one already running may have passed the end before a new line was written. */
  private catchingUp: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(imagesDir: string) {
    this.file = journalFile(imagesDir);
  }

  /**
   * The source of the picture `relPath` (relative to the images folder); null for a picture the downloader did not
   * store (a hand-dropped one, one in a subfolder) or whose record cannot be read.
   */
  async sourceOf(relPath: string): Promise<PictureSource | null> {
    const named = parsePictureName(relPath);
    if (!named) return null;
    const key = named.key.stem;
    for (let attempt = 0; attempt < 2; attempt++) {
      let at = this.offsets.get(key);
      if (at === undefined) {
        await this.catchUp();
        at = this.offsets.get(key);
      }
      if (at === undefined) return null;
      const record = await this.recordAt(at);
      if (record?.status === 'done' && record.file === relPath) return { url: record.url, at: record.at };
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
      this.readUpTo = await readJournalLines(fh, this.readUpTo, (line, at) => {
        const record = parseRecord(line);
        if (record?.status === 'done') this.offsets.set(record.key, at);
      });
    } finally {
      await fh.close();
    }
  }

  private async recordAt(at: number) {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.file, 'r');
    } catch {
      return undefined;
    }
    try {
      const block = Buffer.allocUnsafe(4096);
      const parts: Buffer[] = [];
      for (let from = at; ; from += block.length) {
        const { bytesRead } = await fh.read(block, 0, block.length, from);
        const nl = block.subarray(0, bytesRead).indexOf(0x0a);
        parts.push(Buffer.from(block.subarray(0, nl === -1 ? bytesRead : nl)));
        if (nl !== -1 || bytesRead === 0) break;
      }
      return parseRecord(Buffer.concat(parts).toString('utf8'));
    } finally {
      await fh.close();
    }
  }
}

const byFolder = new Map<string, SourceUrls>();

/** The source of a picture in `imagesDir`, through one SourceUrls a folder. See SourceUrls.sourceOf. */
export function readSource(imagesDir: string, relPath: string): Promise<PictureSource | null> {
  let urls = byFolder.get(imagesDir);
  if (!urls) {
    urls = new SourceUrls(imagesDir);
    byFolder.set(imagesDir, urls);
  }
  // as with an unreadable line: the picture is indexed without its source rather than not at all
  return urls.sourceOf(relPath).catch(() => null);
}
