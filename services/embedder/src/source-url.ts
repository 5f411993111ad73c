// The downloader's sidecar for a stored file: <IMAGES_DIR>/.downloader/files/<name>.json with the URL it came from.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Only files the downloader stores (top level of IMAGES_DIR) have sidecars; hand-dropped pictures get null. */
export async function readSourceUrl(imagesDir: string, relPath: string): Promise<string | null> {
  if (relPath.includes('/')) return null;
  let text: string;
  try {
    text = await readFile(path.join(imagesDir, '.downloader', 'files', `${relPath}.json`), 'utf8');
  } catch {
    return null;
  }
  try {
    const raw = JSON.parse(text) as { url?: unknown };
    return typeof raw.url === 'string' ? raw.url : null;
  } catch {
    return null; // a sidecar being rewritten is replaced atomically, so a bad one is just not ours to trust
  }
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
