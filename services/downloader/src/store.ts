// Where downloads land: `<stem><ext>` in OUTPUT_DIR, written under a dot-prefixed temporary name and renamed only when
// complete and verified, with the embedder's sidecar (source URL) in .downloader/files/ put in place first.
import { randomBytes } from 'node:crypto';
import { opendir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The downloader's own state lives here; the embedder skips every path segment starting with '.'. */
export const STATE_DIR = '.downloader';
const TEMP_MARK = '.tmp-';

export interface Sidecar {
  url: string;
  final_url: string;
  content_type: string;
  bytes: number;
  fetched_at: string;
}

export function stateDir(outputDir: string): string {
  return path.join(outputDir, STATE_DIR);
}

export function sidecarDir(outputDir: string): string {
  return path.join(outputDir, STATE_DIR, 'files');
}

/** A fresh temporary path next to where `name` will go (same folder, so the rename is atomic). */
export function tempPathFor(dir: string, name: string): string {
  return path.join(dir, `.${name}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/** Writes `data` to `file` atomically: a temporary file in the same folder, then a rename. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = tempPathFor(path.dirname(file), path.basename(file));
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Puts a verified download in place: sidecar first, so the embedder never sees the picture without its URL. */
export async function commitDownload(
  outputDir: string,
  tmp: string,
  fileName: string,
  sidecar: Sidecar,
): Promise<void> {
  await writeFileAtomic(path.join(sidecarDir(outputDir), `${fileName}.json`), `${JSON.stringify(sidecar)}\n`);
  await rename(tmp, path.join(outputDir, fileName));
}

/**
 * Removes temporary files a killed run left behind. Reads the folders as streams, so a folder holding a million
 * pictures costs no more memory than an empty one. Returns how many were removed.
 */
export async function removeStaleTemps(outputDir: string): Promise<number> {
  let removed = 0;
  for (const dir of [outputDir, stateDir(outputDir), sidecarDir(outputDir)]) {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir, { bufferSize: 256 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for await (const entry of handle) {
      if (entry.isFile() && isTempName(entry.name)) {
        await rm(path.join(dir, entry.name), { force: true });
        removed++;
      }
    }
  }
  return removed;
}
