import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { journalFile, pictureKey, type RecordFields } from '@image-search/picture-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyTable } from '../src/key-table.ts';
import { RecordJournal, UrlState } from '../src/records.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'records-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(url: string, status: 'done' | 'failed', extra: Partial<RecordFields> = {}): RecordFields {
  return {
    key: pictureKey(url).stem,
    status,
    url,
    file: status === 'done' ? `${pictureKey(url).stem}.jpg` : null,
    bytes: status === 'done' ? 100 : 0,
    content_type: status === 'done' ? 'image/jpeg' : null,
    final_url: url,
    attempts: 1,
    error: status === 'done' ? null : 'http_404',
    detail: null,
    permanent: status === 'failed',
    at: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}

describe('RecordJournal', () => {
  it('remembers outcomes across a restart; the latest record for a URL wins', async () => {
    const { journal } = await RecordJournal.open(dir);
    journal.append(record('http://a.test/1', 'failed'));
    journal.append(record('http://a.test/2', 'failed', { permanent: false, error: 'timeout' }));
    journal.append(record('http://a.test/1', 'done'));
    await journal.close();

    const { journal: again, unreadable } = await RecordJournal.open(dir);
    expect(unreadable).toBe(0);
    expect(again.size).toBe(2);
    expect(again.state(pictureKey('http://a.test/1'))).toBe(UrlState.Done);
    expect(again.state(pictureKey('http://a.test/2'))).toBe(UrlState.FailedTransient);
    expect(again.state(pictureKey('http://a.test/3'))).toBe(UrlState.Unknown);
    expect(again.at(pictureKey('http://a.test/2'))).toBe(Date.parse('2025-01-01T00:00:00Z'));
    await again.close();
  });

  it('cuts a torn last line (a crash mid-write) so the next record stays readable', async () => {
    const { journal } = await RecordJournal.open(dir);
    journal.append(record('http://a.test/1', 'done'));
    await journal.close();
    await appendFile(journalFile(dir), '{"v":1,"key":"0123456789abcdef","status":"do');

    const { journal: again, unreadable } = await RecordJournal.open(dir);
    expect(unreadable).toBe(0);
    again.append(record('http://a.test/2', 'done'));
    await again.close();
    const lines = (await readFile(journalFile(dir), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).url)).toEqual(['http://a.test/1', 'http://a.test/2']);
  });

  it('compaction drops superseded lines and keeps every latest outcome', async () => {
    const { journal } = await RecordJournal.open(dir);
    for (let i = 0; i < 20; i++) journal.append(record(`http://a.test/${i}`, 'failed'));
    for (let i = 0; i < 10; i++) journal.append(record(`http://a.test/${i}`, 'done'));
    expect(journal.superseded).toBe(10);
    expect(await journal.compactIfWorthIt()).toBe(true);
    expect(journal.superseded).toBe(0);
    journal.append(record('http://a.test/15', 'done'));
    await journal.close();

    const text = await readFile(journalFile(dir), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(21);
    const { journal: again } = await RecordJournal.open(dir);
    expect(again.superseded).toBe(1);
    for (let i = 0; i < 20; i++) {
      const expected = i < 10 || i === 15 ? UrlState.Done : UrlState.FailedPermanent;
      expect(again.state(pictureKey(`http://a.test/${i}`)), String(i)).toBe(expected);
    }
    await again.close();
  });
});

describe('KeyTable', () => {
  it('finds every one of many keys and nothing else', () => {
    const table = new KeyTable();
    for (let i = 0; i < 50_000; i++) expect(table.add(pictureKey(`http://h.test/${i}`))).toBe(i);
    expect(table.size).toBe(50_000);
    expect(table.add(pictureKey('http://h.test/123'))).toBe(123);
    for (let i = 0; i < 50_000; i += 997) expect(table.find(pictureKey(`http://h.test/${i}`))).toBe(i);
    expect(table.find(pictureKey('http://h.test/x'))).toBe(-1);
  });
});
