// Maps a URL path under /images/ or /thumbnails/ to a file that is provably inside its folder. Anything doubtful —
// "..", dot-files, encoded slashes, NUL bytes, absolute paths, symlinks leading out — resolves to null (a 404).

import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The decoded path segments, or null when any segment is unsafe. */
export function safeSegments(rawPath: string): string[] | null {
  if (rawPath === '' || rawPath.length > 4096) return null;
  const out: string[] = [];
  for (const raw of rawPath.split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // Empty (// or a leading /), '.', '..' and hidden files (.downloader/, temporary .x.tmp-*) are never served.
    if (seg === '' || seg.startsWith('.')) return null;
    if (seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return null;
    out.push(seg);
  }
  return out;
}

const inside = (root: string, p: string) => p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

export interface ServedFile {
  file: string;
  stats: Stats;
}

/** `root` must already be a real path (see realRoot). */
export async function resolveInside(root: string, rawPath: string): Promise<ServedFile | null> {
  const segments = safeSegments(rawPath);
  if (!segments) return null;
  const joined = path.resolve(root, ...segments);
  if (!inside(root, joined)) return null;
  try {
    const real = await realpath(joined);
    if (!inside(root, real)) return null;
    const stats = await stat(real);
    return stats.isFile() ? { file: real, stats } : null;
  } catch {
    return null;
  }
}

/** The folder's real path, or the resolved path when it does not exist yet (then every lookup 404s). */
export async function realRoot(dir: string): Promise<string> {
  try {
    return await realpath(dir);
  } catch {
    return path.resolve(dir);
  }
}
