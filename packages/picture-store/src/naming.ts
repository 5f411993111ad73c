// How a picture the downloader stores is named: `<key><ext>` at the top of the images folder, the key being the first
// 16 hex digits of sha1(url), and the downloader's own state in a dot folder beside the pictures (the embedder skips
// every path segment starting with '.').
import { hash } from 'node:crypto';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from './image-type.ts';

/** The 64 bits of a key as two numbers, for tables that keep millions of them without a string each. */
export interface Key64 {
  hi: number;
  lo: number;
}

export type PictureKey = { stem: string } & Key64;

/** sha1(url) as the 16-hex-digit file stem and the same 64 bits as two numbers. */
export function pictureKey(url: string): PictureKey {
  // the one-shot hash: a Hash object per line was a quarter of a round over a million done URLs
  const digest = hash('sha1', url, 'buffer');
  return { stem: digest.toString('hex', 0, 8), hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
}

const STEM = /^[0-9a-f]{16}$/;

/** The key a stem (16 hex digits) stands for; undefined for anything else. */
export function stemKey(stem: string): PictureKey | undefined {
  if (!STEM.test(stem)) return undefined;
  return { stem, hi: Number.parseInt(stem.slice(0, 8), 16), lo: Number.parseInt(stem.slice(8), 16) };
}

/** The file name of the picture stored for `stem` whose type has extension `ext` ('.jpg'). */
export function pictureFileName(stem: string, ext: string): string {
  return `${stem}${ext}`;
}

/** The key and extension of a file named as the downloader names pictures; undefined for any other name. */
export function parsePictureName(name: string): { key: PictureKey; ext: string } | undefined {
  const ext = name.slice(16);
  if (!IMAGE_EXTENSIONS.includes(ext)) return undefined;
  const key = stemKey(name.slice(0, 16));
  return key && { key, ext };
}

/** The downloader's own state (journal, lock) inside the images folder. */
export const STATE_DIR = '.downloader';

export function stateDir(imagesDir: string): string {
  return path.join(imagesDir, STATE_DIR);
}

/** The record journal: one JSON line per download outcome (journal.ts). */
export function journalFile(imagesDir: string): string {
  return path.join(stateDir(imagesDir), 'records.jsonl');
}
