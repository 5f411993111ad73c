// A picture already in OUTPUT_DIR under the URL's stem but without a record: the original downloader stored every URL
// as `sha1(url)[:16].jpg` (whatever its real type), and a crash can come between a rename and its journal line. When its
// first bytes say it is an image, it is recorded as done (with its real type), not fetched again.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { type RecordFields, SNIFF_BYTES } from '@image-search/picture-store';
import { sniffImage } from './sniff.ts';

export type Adoption = { adopted: true; record: RecordFields } | { adopted: false; why: string };

/** Reasons a file cannot be read that mean "fetch it again" rather than "stop": it went away, or is not ours to read. */
const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR']);

export async function adoptStoredFile(outputDir: string, fileName: string, url: string): Promise<Adoption> {
  let head: Buffer;
  let size: number;
  try {
    const fh = await open(path.join(outputDir, fileName), 'r');
    try {
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
      ({ size } = await fh.stat());
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (UNREADABLE.has(code)) return { adopted: false, why: `cannot be read (${code})` };
    throw err;
  }
  const sniffed = await sniffImage(head);
  if (sniffed.kind === 'rejected') return { adopted: false, why: sniffed.detail };
  const at = new Date().toISOString();
  return {
    adopted: true,
    record: {
      key: fileName.slice(0, 16),
      status: 'done',
      url,
      file: fileName,
      bytes: size,
      content_type: sniffed.mime,
      final_url: null,
      attempts: 0,
      error: null,
      detail: 'adopted: the picture was already in OUTPUT_DIR',
      permanent: false,
      at,
    },
  };
}
