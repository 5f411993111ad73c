// The record journal's format: one JSON object a line, one line per download outcome, the latest line for a key
// winning. Written by the downloader, read by the downloader (its index) and the embedder (source URLs). A line whose
// version this code does not know, or that is not a whole record, is unreadable: counted by readers, never guessed at.
import type { FileHandle } from 'node:fs/promises';

/** Bumped whenever a field changes meaning; readers skip lines of other versions. */
export const JOURNAL_VERSION = 1;

export interface PictureRecord {
  v: typeof JOURNAL_VERSION;
  /** sha1(url), first 16 hex digits: the stored file's stem. */
  key: string;
  status: 'done' | 'failed';
  url: string;
  /** File name in the images folder when done. */
  file: string | null;
  bytes: number;
  /** The real type, from the file's first bytes. */
  content_type: string | null;
  final_url: string | null;
  attempts: number;
  /** Failure reason (http_404, timeout, html, too_large …), null when done. */
  error: string | null;
  detail: string | null;
  /** Permanent failures wait RETRY_FAILED_AFTER before another try; others are tried again next round. */
  permanent: boolean;
  /** When this outcome happened (ISO 8601). */
  at: string;
}

/** A record without its version, as callers build one. */
export type RecordFields = Omit<PictureRecord, 'v'>;

/** The journal line for `record`, newline included. */
export function formatRecord(record: RecordFields): string {
  return `${JSON.stringify({ v: JOURNAL_VERSION, ...record })}\n`;
}

const KEY = /^[0-9a-f]{16}$/;

/** The record a line holds; undefined for a line that is not a whole record of this version. */
export function parseRecord(line: string): PictureRecord | undefined {
  let raw: Partial<PictureRecord>;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || raw.v !== JOURNAL_VERSION) return undefined;
  if (typeof raw.key !== 'string' || !KEY.test(raw.key) || typeof raw.url !== 'string') return undefined;
  if (raw.status === 'done') return typeof raw.file === 'string' ? (raw as PictureRecord) : undefined;
  return raw.status === 'failed' ? (raw as PictureRecord) : undefined;
}

const READ_BLOCK = 1 << 20;

/**
 * Calls `onLine` for every whole line of the open journal from byte `from` on, with the byte offset where it starts,
 * and returns the offset after the last whole line. A last line without its newline (being written, or torn by a
 * crash) is not handed on: a reader coming back later starts from the returned offset and reads it once it is whole.
 */
export async function readJournalLines(
  fh: FileHandle,
  from: number,
  onLine: (line: string, at: number) => void,
): Promise<number> {
  const block = Buffer.allocUnsafe(READ_BLOCK);
  let readAt = from;
  let carry = Buffer.alloc(0);
  let carryAt = from;
  for (;;) {
    const { bytesRead } = await fh.read(block, 0, READ_BLOCK, readAt);
    if (bytesRead === 0) break;
    readAt += bytesRead;
    const bytes =
      carry.length > 0 ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
      if (nl > start) onLine(bytes.toString('utf8', start, nl), carryAt + start);
      start = nl + 1;
    }
    carry = Buffer.from(bytes.subarray(start));
    carryAt += start;
  }
  return carryAt;
}
