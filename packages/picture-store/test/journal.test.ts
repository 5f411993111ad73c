// The journal's record format and its reader, as the downloader writes it and the embedder reads it.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRecord, parseRecord, type RecordFields, readJournalLines } from '../src/index.ts';

const done: RecordFields = {
  key: '0123456789abcdef',
  status: 'done',
  url: 'https://example.com/ünïcode.jpg',
  file: '0123456789abcdef.jpg',
  bytes: 10,
  content_type: 'image/jpeg',
  final_url: null,
  attempts: 1,
  error: null,
  detail: null,
  permanent: false,
  at: '2026-01-01T00:00:00.000Z',
};

describe('formatRecord / parseRecord', () => {
  it('writes one versioned JSON line that reads back as the same record', () => {
    const line = formatRecord(done);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(parseRecord(line)).toEqual({ v: 1, ...done });
  });

  it('refuses lines that are not whole records of this version', () => {
    const ok = JSON.parse(formatRecord(done));
    for (const bad of [
      '',
      '{"v":1,"key":"0123',
      JSON.stringify({ ...ok, v: 2 }),
      JSON.stringify({ ...ok, v: undefined }),
      JSON.stringify({ ...ok, key: 'not-a-key' }),
      JSON.stringify({ ...ok, status: 'maybe' }),
      JSON.stringify({ ...ok, file: null }),
      'null',
    ]) {
      expect(parseRecord(bad), bad).toBeUndefined();
    }
  });
});

describe('readJournalLines', () => {
  it('hands on whole lines with their offsets and stops before a torn last line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'picture-store-journal-'));
    try {
      const file = path.join(dir, 'records.jsonl');
      const a = formatRecord(done);
      const b = formatRecord({ ...done, key: 'fedcba9876543210', file: 'fedcba9876543210.png' });
      await writeFile(file, `${a}${b}{"v":1,"ke`);
      const fh = await open(file, 'r');
      const seen: Array<[string | undefined, number]> = [];
      const end = await readJournalLines(fh, 0, (line, at) => seen.push([parseRecord(line)?.key, at]));
      await fh.close();
      const offsetOfB = Buffer.byteLength(a);
      expect(seen).toEqual([
        ['0123456789abcdef', 0],
        ['fedcba9876543210', offsetOfB],
      ]);
      expect(end).toBe(offsetOfB + Buffer.byteLength(b));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
