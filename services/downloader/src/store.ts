// Where downloads land: `<stem><ext>` in OUTPUT_DIR, written under a dot-prefixed temporary name and renamed only when
// complete and verified. The embedder learns each picture's source URL from the record journal, whose line for it is
// written before the rename.
import { opendirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '@image-search/picture-store';

const TEMP_MARK = '.tmp-';

let tempCounter = 0;

/** A fresh temporary path next to where `name` will go (same folder, so the rename is atomic); unique in the process. */
export function tempPathFor(dir: string, name: string): string {
  return path.join(dir, `.${name}${TEMP_MARK}${process.pid}-${(tempCounter++).toString(36)}`);
}

function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/**
 * Removes temporary files a killed run left behind.
 * Reads the folders as streams, so a folder holding a million pictures costs no more memory than an empty one, and
 * synchronously: it runs before anything else, and takes half the time of the async iterator (~0.5 s a million).
 * Returns how many were removed.
 */
export function removeStaleTemps(outputDir: string): number {
  let removed = 0;
  for (const dir of [outputDir, stateDir(outputDir)]) {
    let handle: ReturnType<typeof opendirSync>;
    try {
      handle = opendirSync(dir, { bufferSize: 1024 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
        if (entry.isFile() && isTempName(entry.name)) {
          rmSync(path.join(dir, entry.name), { force: true });
          removed++;
        }
      }
    } finally {
      handle.closeSync();
    }
  }
  return removed;
}
