// Decides what a download really is from its first bytes, whatever the server's Content-Type claims: one of the
// accepted image types (picture-store's sniffer), or the reason it is refused, said the way a person would.
import { detectImage, type ImageType } from '@image-search/picture-store';

export type RejectReason = 'empty' | 'html' | 'svg' | 'text' | 'unknown_format';

export type Sniffed = ({ kind: 'image' } & ImageType) | { kind: 'rejected'; reason: RejectReason; detail: string };

/** Text that is mostly printable UTF-8 (or ASCII) with no NUL bytes. */
function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)) printable++;
  return printable / head.length > 0.95 && !head.toString('utf8').includes('\uFFFD');
}

/** Why `head` is not a picture we take. */
function refusal(head: Buffer): Extract<Sniffed, { kind: 'rejected' }> {
  if (head.length === 0) return { kind: 'rejected', reason: 'empty', detail: 'the body is empty' };
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

export async function sniffImage(head: Buffer): Promise<Sniffed> {
  const image = head.length > 0 ? await detectImage(head) : undefined;
  return image ? { kind: 'image', ...image } : refusal(head);
}
