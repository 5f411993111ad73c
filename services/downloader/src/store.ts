// Where downloads land: `<stem><ext>` in OUTPUT_DIR, written under a dot-prefixed temporary name and renamed only when
// complete and verified, with the embedder's sidecar (source URL) in .downloader/files/ put in place first.
import { renameSync, rmSync, writeFileSync, writevSync } from 'node:fs';
import { opendir, rm } from 'node:fs/promises';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** The downloader's own state lives here; the embedder skips every path segment starting with '.'. */
export const STATE_DIR = '.downloader';
const TEMP_MARK = '.tmp-';

export interface Sidecar {
  url: string;
  /** Null for a picture adopted from an earlier downloader, which did not keep it. */
  final_url: string | null;
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

let tempCounter = 0;

/** A fresh temporary path next to where `name` will go (same folder, so the rename is atomic); unique per thread. */
export function tempPathFor(dir: string, name: string): string {
  return path.join(dir, `.${name}${TEMP_MARK}${process.pid}-${threadId}-${(tempCounter++).toString(36)}`);
}

/** Writes all of `chunks` to `fd` (writev may write less than asked; it goes on from where it stopped). */
export function writeChunksSync(fd: number, chunks: Buffer[]): void {
  let rest = chunks;
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    let i = 0;
    while (i < rest.length && written >= rest[i].length) written -= rest[i++].length;
    rest = rest.slice(i);
    if (written > 0) rest[0] = rest[0].subarray(written);
  }
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/**
 * Puts a verified download in place: sidecar first, so the embedder never sees the picture without its URL.
 * Synchronous on purpose: a few small system calls cost less than as many thread-pool round trips per picture.
 */
export function commitDownload(outputDir: string, tmp: string, fileName: string, sidecar: Sidecar): void {
  placeSidecar(outputDir, fileName, sidecar, { pictureVisible: false });
  renameSync(tmp, path.join(outputDir, fileName));
}

/**
 * A new sidecar whose picture is not visible yet is written straight to its name (exclusive create): nobody reads it
 * before its picture appears, so it is whole whenever it is read; one rename a picture less. One that is already there
 * (the picture fetched again), or whose picture may already be read (an adopted one), is replaced atomically (temp +
 * rename).
 */
export function placeSidecar(
  outputDir: string,
  fileName: string,
  sidecar: Sidecar,
  { pictureVisible }: { pictureVisible: boolean },
): void {
  const file = path.join(sidecarDir(outputDir), `${fileName}.json`);
  const text = `${JSON.stringify(sidecar)}\n`;
  if (!pictureVisible) {
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const tmp = tempPathFor(path.dirname(file), path.basename(file));
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
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
