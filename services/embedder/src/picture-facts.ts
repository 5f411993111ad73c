// What the index says about a picture besides its vector: read from its path, its bytes' EXIF/IPTC/XMP metadata (with
// exifr) and where it came from. Pure apart from readEmbeddedFacts, which only parses bytes already in memory.
import path from 'node:path';
import type { PictureSource } from '@image-search/picture-store';
import { FACTS_VERSION, type Orientation, type PictureFacts } from '@image-search/search-index';
import exifr from 'exifr';
import sharp from 'sharp';

export interface EmbeddedFacts {
  takenAt: Date | null;
  keywords: string[];
  description: string | null;
}

const NONE: EmbeddedFacts = { takenAt: null, keywords: [], description: null };

/** The segments that hold dates, keywords and descriptions; the rest (GPS, ICC, thumbnails) is not read. */
const EXIFR_OPTIONS = {
  tiff: true,
  exif: true,
  iptc: true,
  xmp: true,
  gps: false,
  icc: false,
  interop: false,
  ifd1: false,
  jfif: false,
  ihdr: false,
  mergeOutput: true,
  silentErrors: true,
};

/**
 * Date taken, keywords and description from the picture's metadata. exifr reads JPEG, TIFF, PNG, HEIC and AVIF files;
 * for the others (WebP, GIF) the EXIF block sharp finds is read as the TIFF structure it is. A picture whose metadata
 * is damaged is still indexed, without these facts. `bytes` may be a file's path: then only its header is read.
 */
export async function readEmbeddedFacts(bytes: Buffer | string, format: string): Promise<EmbeddedFacts> {
  try {
    let raw: Record<string, unknown> | undefined;
    if (format === 'webp' || format === 'gif') {
      const exif = (await sharp(bytes).metadata()).exif;
      // sharp gives the block with its "Exif\0\0" header; what follows is a TIFF structure
      if (exif && exif.length > 6) raw = await exifr.parse(exif.subarray(6), EXIFR_OPTIONS);
    } else raw = await exifr.parse(bytes, EXIFR_OPTIONS);
    return raw ? embeddedFacts(raw) : NONE;
  } catch {
    return NONE;
  }
}

/** exifr's merged output → our facts (exported for unit tests). */
export function embeddedFacts(raw: Record<string, unknown>): EmbeddedFacts {
  const taken = raw.DateTimeOriginal ?? raw.CreateDate;
  const takenAt = taken instanceof Date && !Number.isNaN(taken.getTime()) ? taken : null;
  const keywords = new Set<string>();
  for (const value of [raw.Keywords, raw.subject, raw.XPKeywords]) {
    for (const k of texts(value).flatMap((t) => t.split(';'))) {
      const word = k.trim();
      if (word) keywords.add(word);
    }
  }
  const description = [raw.description, raw.Caption, raw.ImageDescription].flatMap(texts)[0] ?? null;
  return { takenAt, keywords: [...keywords], description };
}

/** Strings from an exifr value: a string, a list, or XMP's language alternative ({lang, value}). */
function texts(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (Array.isArray(value)) return value.flatMap(texts);
  if (value && typeof value === 'object' && 'value' in value) return texts((value as { value: unknown }).value);
  return [];
}

export function orientationOf(width: number, height: number): Orientation {
  if (width === height) return 'square';
  return width > height ? 'landscape' : 'portrait';
}

/** 'trips/2023/beach.jpg' → folder 'trips/2023', file name 'beach.jpg'. */
export function pathFacts(relPath: string): { folder: string; file_name: string } {
  const folder = path.posix.dirname(relPath);
  return { folder: folder === '.' ? '' : folder, file_name: path.posix.basename(relPath) };
}

export function sourceHost(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}

export interface FactsInput {
  path: string;
  /** Upright size. */
  width: number;
  height: number;
  format: string;
  bytes: number;
  /** The downloader's record of it; null for a picture put in the folder by hand. */
  source: PictureSource | null;
  /** The file's modification time: when a picture without a record was added. */
  modifiedAt: Date;
  embedded: EmbeddedFacts;
}

/** When a picture was added: when the downloader stored it, else (added by hand) when its file was written. */
export function addedAt(source: PictureSource | null, modifiedAt: Date): string {
  const recorded = source ? Date.parse(source.at) : Number.NaN;
  return new Date(Number.isNaN(recorded) ? modifiedAt : recorded).toISOString();
}

export function pictureFacts(i: FactsInput): PictureFacts {
  const taken_at = i.embedded.takenAt?.toISOString() ?? null;
  const added_at = addedAt(i.source, i.modifiedAt);
  return {
    facts_version: FACTS_VERSION,
    ...pathFacts(i.path),
    taken_at,
    added_at,
    dated_at: taken_at ?? added_at,
    source_host: sourceHost(i.source?.url ?? null),
    format: i.format,
    orientation: orientationOf(i.width, i.height),
    width: i.width,
    height: i.height,
    bytes: i.bytes,
    keywords: i.embedded.keywords,
    description: i.embedded.description,
  };
}
