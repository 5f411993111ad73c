// Whether a picture whose body ended with its connection (no Content-Length, not chunked) came whole: a cut there looks
// like an ordinary end, so the picture's own structure has to say. A JPEG ending with its EOI marker or a PNG with its
// IEND chunk is whole; anything else is decoded by sharp, which refuses truncated data.
import { open } from 'node:fs/promises';
import type { ImageFormat } from '@image-search/picture-store';

const JPEG_EOI = Buffer.from([0xff, 0xd9]);
/** The IEND chunk: zero length, type, and its fixed CRC. */
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
/** Padding some servers and encoders leave after the end marker. */
const PADDING = new Set([0x00, 0x0a, 0x0d, 0x20]);

async function tailOf(file: string, size: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const want = Math.min(size, length);
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(want), 0, want, size - want);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function endsWithMarker(file: string, size: number, marker: Buffer): Promise<boolean> {
  const tail = await tailOf(file, size, 64);
  let end = tail.length;
  while (end > 0 && PADDING.has(tail[end - 1])) end--;
  return end >= marker.length && tail.subarray(end - marker.length, end).equals(marker);
}

/** Why the picture in `file` (`size` bytes) is incomplete; undefined when it is whole. */
export async function incompleteBecause(file: string, size: number, format: ImageFormat): Promise<string | undefined> {
  if (format === 'jpeg' && (await endsWithMarker(file, size, JPEG_EOI))) return undefined;
  if (format === 'png' && (await endsWithMarker(file, size, PNG_IEND))) return undefined;
  const { default: sharp } = await import('sharp');
  try {
    // decoded through a small resize: every row is read (a cut anywhere fails) without holding the full-size pixels
    await sharp(file, { failOn: 'truncated', animated: true }).resize(16, 16, { fit: 'inside' }).raw().toBuffer();
    return undefined;
  } catch (err) {
    return `the ${format.toUpperCase()} ends before its data does (${(err as Error).message.split('\n')[0]})`;
  }
}
