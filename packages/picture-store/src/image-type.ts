// What a picture is, from its bytes (never from a name or a claimed Content-Type), through `file-type`; and the one
// table of the formats every service accepts, with their extension and MIME type.
import { fileTypeFromBuffer } from 'file-type';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';

export interface ImageType {
  format: ImageFormat;
  /** The extension a stored picture of this type gets ('.jpg'). */
  ext: string;
  mime: string;
}

/** The raster formats we download, decode and index. */
export const IMAGE_TYPES: Readonly<Record<ImageFormat, ImageType>> = {
  jpeg: { format: 'jpeg', ext: '.jpg', mime: 'image/jpeg' },
  png: { format: 'png', ext: '.png', mime: 'image/png' },
  webp: { format: 'webp', ext: '.webp', mime: 'image/webp' },
  gif: { format: 'gif', ext: '.gif', mime: 'image/gif' },
  avif: { format: 'avif', ext: '.avif', mime: 'image/avif' },
  tiff: { format: 'tiff', ext: '.tiff', mime: 'image/tiff' },
};

/** Every extension a stored picture can have. */
export const IMAGE_EXTENSIONS: readonly string[] = Object.values(IMAGE_TYPES).map((t) => t.ext);

const BY_MIME = new Map(Object.values(IMAGE_TYPES).map((t) => [t.mime, t]));

/** Bytes from the start of a file that are enough to tell its type (file-type's own figure); fewer at a file's end. */
export const SNIFF_BYTES = 4100;

/** The accepted image type `head` (a file's first bytes) starts like; undefined for anything else. */
export async function detectImage(head: Uint8Array): Promise<ImageType | undefined> {
  const found = await fileTypeFromBuffer(head);
  if (found?.mime === 'image/heif' && hasAvifBrand(head)) return IMAGE_TYPES.avif;
  return found && BY_MIME.get(found.mime);
}

/**
 * file-type goes by an ISO-BMFF file's major brand; early AVIF encoders wrote `mif1` there and listed `avif` only among
 * the compatible brands of the `ftyp` box.
 */
function hasAvifBrand(head: Uint8Array): boolean {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const end = Math.min(bytes.length, bytes.readUInt32BE(0));
  for (let at = 16; at + 4 <= end; at += 4) {
    const brand = bytes.toString('latin1', at, at + 4);
    if (brand === 'avif' || brand === 'avis') return true;
  }
  return false;
}

/** The MIME type of a format as a decoder names it ('jpeg', 'heif' …). */
export function mimeOf(format: string): string {
  const name = format.toLowerCase();
  if (name === 'jpg') return 'image/jpeg';
  if (name === 'svg') return 'image/svg+xml';
  return (IMAGE_TYPES as Record<string, ImageType | undefined>)[name]?.mime ?? `image/${name}`;
}
