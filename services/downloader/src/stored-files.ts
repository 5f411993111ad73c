// What OUTPUT_DIR holds, read once a round: a "done" record is trusted only while its picture is still there, and a
// picture named like ours but without a record (stored by the original downloader, or a record lost in a crash) can be
// adopted instead of fetched again. One directory listing a round: ~0.5 s for a million files, where a stat per URL
// would cost several seconds.
import { opendirSync } from 'node:fs';
import { type Key64, KeyTable } from './key-table.ts';
import { IMAGE_EXTENSIONS } from './sniff.ts';

/** `<16 hex digits><extension>`: the names this downloader and the original one give their pictures. */
const STORED_NAME = /^[0-9a-f]{16}\.[a-z]{3,4}$/;

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
        if (STORED_NAME.test(entry.name) && !entry.isDirectory()) stored.add(entry.name);
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
  nameOf(key: Key64 & { stem: string }): string | undefined {
    const id = this.keys.find(key);
    return id === -1 ? undefined : `${key.stem}${IMAGE_EXTENSIONS[this.exts[id]]}`;
  }

  private add(name: string): void {
    const ext = IMAGE_EXTENSIONS.indexOf(name.slice(16));
    if (ext === -1) return;
    const id = this.keys.add({ hi: Number.parseInt(name.slice(0, 8), 16), lo: Number.parseInt(name.slice(8, 16), 16) });
    if (id >= this.exts.length) {
      const bigger = new Uint8Array(this.exts.length * 2);
      bigger.set(this.exts);
      this.exts = bigger;
    }
    this.exts[id] = ext;
  }
}
