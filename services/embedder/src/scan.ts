// Walks IMAGES_DIR: every regular file (symlinks followed), skipping any name that starts with '.' — the downloader's
// .downloader/ records and its .<name>.tmp-* files among them.
import { readdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export interface ScannedFile {
  /** Relative to the scanned folder, '/'-separated. */
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Synchronous directory reads and stats are the fastest way through 100,000 small entries in Node (no thread-pool
 * round trip per file); the walk yields to the event loop every few thousand entries so timers and logs keep running.
 */
export async function scanFolder(root: string): Promise<ScannedFile[]> {
  const out: ScannedFile[] = [];
  const stack: string[] = [''];
  let sinceYield = 0;
  while (stack.length > 0) {
    const rel = stack.pop()!;
    let names: import('node:fs').Dirent[];
    try {
      names = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (rel !== '' && (code === 'ENOENT' || code === 'ENOTDIR')) continue;
      throw err;
    }
    for (const d of names) {
      if (d.name.startsWith('.')) continue;
      const relPath = rel ? `${rel}/${d.name}` : d.name;
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      let st: Stats | undefined;
      if (d.isSymbolicLink() || isFile) {
        try {
          st = statSync(path.join(root, relPath));
        } catch {
          continue; // vanished, or a dangling link
        }
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) stack.push(relPath);
      else if (isFile && st) out.push({ path: relPath, size: st.size, mtimeMs: st.mtimeMs });
      if (++sinceYield >= 5000) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  }
  return out;
}
