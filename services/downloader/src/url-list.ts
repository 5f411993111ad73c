// The URL list as people write it: one URL a line, blank lines and # comments ignored, whitespace trimmed.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type ListLine = { kind: 'skip' } | { kind: 'url'; url: string } | { kind: 'invalid'; text: string; why: string };

const SKIP: ListLine = { kind: 'skip' };

export function parseListLine(raw: string): ListLine {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return SKIP;
  if (/\s/.test(text)) return { kind: 'invalid', text, why: 'contains spaces' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: 'invalid', text, why: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'invalid', text, why: `${url.protocol} URLs are not downloaded (only http: and https:)` };
  }
  if (!url.hostname) return { kind: 'invalid', text, why: 'no host name' };
  return { kind: 'url', url: text };
}

/**
 * Streams the list's lines with their numbers (from 1) and meaning, so memory does not grow with the list.
 * Throws ENOENT when the file is missing.
 */
export async function* listLines(file: string): AsyncGenerator<{ lineNo: number; line: ListLine }> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    yield { lineNo, line: parseListLine(raw) };
  }
}
