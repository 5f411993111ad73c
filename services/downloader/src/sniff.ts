// Decides what a download really is from its first bytes, whatever the server's Content-Type claims.

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';
export type RejectReason = 'empty' | 'html' | 'svg' | 'text' | 'unknown_format';

export type Sniffed =
  | { kind: 'image'; format: ImageFormat; ext: string; mime: string }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

/** Bytes needed to decide; fewer is fine at the end of a body. */
export const SNIFF_BYTES = 512;

const IMAGES: Record<ImageFormat, { ext: string; mime: string }> = {
  jpeg: { ext: '.jpg', mime: 'image/jpeg' },
  png: { ext: '.png', mime: 'image/png' },
  webp: { ext: '.webp', mime: 'image/webp' },
  gif: { ext: '.gif', mime: 'image/gif' },
  avif: { ext: '.avif', mime: 'image/avif' },
  tiff: { ext: '.tiff', mime: 'image/tiff' },
};

/** Every extension a stored picture can have. */
export const IMAGE_EXTENSIONS: readonly string[] = Object.values(IMAGES).map((i) => i.ext);

function startsWith(head: Buffer, bytes: number[], at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[at + i] !== bytes[i]) return false;
  return true;
}

function ascii(head: Buffer, from: number, to: number): string {
  return head.subarray(from, Math.min(to, head.length)).toString('latin1');
}

/** AVIF is an ISO-BMFF file whose ftyp box names avif/avis as major or compatible brand. */
function isAvif(head: Buffer): boolean {
  if (head.length < 12 || ascii(head, 4, 8) !== 'ftyp') return false;
  const boxSize = head.readUInt32BE(0);
  const end = Math.min(head.length, boxSize >= 16 ? boxSize : 12);
  for (let at = 8; at + 4 <= end; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    const brand = ascii(head, at, at + 4);
    if (brand === 'avif' || brand === 'avis') return true;
  }
  return false;
}

function image(format: ImageFormat): Sniffed {
  return { kind: 'image', format, ...IMAGES[format] };
}

/** Text that is mostly printable UTF-8 (or ASCII) with no NUL bytes. */
function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)) printable++;
  return printable / head.length > 0.95 && !head.toString('utf8').includes('\uFFFD');
}

export function sniffImage(head: Buffer): Sniffed {
  if (head.length === 0) return { kind: 'rejected', reason: 'empty', detail: 'the body is empty' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return image('jpeg');
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image('png');
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return image('gif');
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return image('webp');
  if (isAvif(head)) return image('avif');
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return image('tiff');

  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<!doctype html|^<html|^<head|^<body|^<script|^<title|^<meta|^<div|^<p[ >]/.test(text)) {
    return { kind: 'rejected', reason: 'html', detail: 'an HTML page, not an image' };
  }
  if (text.startsWith('<svg') || ((text.startsWith('<?xml') || text.startsWith('<!--')) && text.includes('<svg'))) {
    return { kind: 'rejected', reason: 'svg', detail: 'an SVG drawing (vector images are not indexed)' };
  }
  if (text.startsWith('<?xml') && text.includes('<html')) {
    return { kind: 'rejected', reason: 'html', detail: 'an XHTML page, not an image' };
  }
  if (looksLikeText(head)) return { kind: 'rejected', reason: 'text', detail: 'text, not an image' };
  const hex = head.subarray(0, 8).toString('hex');
  return { kind: 'rejected', reason: 'unknown_format', detail: `not a supported image format (starts with ${hex})` };
}
