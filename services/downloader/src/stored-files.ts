// What OUTPUT_DIR holds, read once a round: a "done" record is trusted only while its picture is still there, and a
// picture named like ours but without a record (stored by the original downloader, or a record lost in a crash) can be
// adopted instead of fetched again. One directory listing a round: ~0.5 s for a million files, where a stat per URL
// would cost several seconds.
import { opendirSync } from 'node:fs';
import { IMAGE_EXTENSIONS, type Key64, type PictureKey, parsePictureName } from '@image-search/picture-store';
import { KeyTable } from './key-table.ts';

export class StoredFiles {
  private readonly keys = new KeyTable();
  /** Per key id: index into IMAGE_EXTENSIONS of the file's extension. */
  private exts = new Uint8Array(1024);

  /** Lists `dir` (its top level only). A folder that does not exist yet holds nothing. */
  static list(dir: string): StoredFiles {
    const stored = new StoredFiles();
    let handle: ReturnType<typeof opendirSync>;
    try {
      handle = opendirSync(dir, { bufferSize: 1024 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return stored;
      throw err;
    }
    try {
      // synchronous: at round start nothing else waits for the thread, and it is twice as fast as the async iterator
      for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
        if (!entry.isDirectory()) stored.add(entry.name);
      }
    } finally {
      handle.closeSync();
    }
    return stored;
  }

  get size(): number {
    return this.keys.size;
  }

  has(key: Key64): boolean {
    return this.keys.find(key) !== -1;
  }

  /** The name of the picture stored for `key`, or undefined. */
  nameOf(key: PictureKey): string | undefined {
    const id = this.keys.find(key);
    return id === -1 ? undefined : `${key.stem}${IMAGE_EXTENSIONS[this.exts[id]]}`;
  }

  /** Notes `name` when it is named as stored pictures are (sha1(url)[:16] and an image extension). */
  private add(name: string): void {
    const named = parsePictureName(name);
    if (!named) return;
    const id = this.keys.add(named.key);
    if (id >= this.exts.length) {
      const bigger = new Uint8Array(this.exts.length * 2);
      bigger.set(this.exts);
      this.exts = bigger;
    }
    this.exts[id] = IMAGE_EXTENSIONS.indexOf(named.ext);
  }
}
