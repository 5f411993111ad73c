// The source URL of a stored picture, from the downloader's journal: read as it grows, and again after a compaction.
import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatRecord, readSource } from '../src/index.ts';

let images: string;
let journal: string;

beforeEach(async () => {
  images = await mkdtemp(path.join(os.tmpdir(), 'picture-store-source-url-'));
  await mkdir(path.join(images, '.downloader'), { recursive: true });
  journal = path.join(images, '.downloader', 'records.jsonl');
});

afterEach(async () => {
  await rm(images, { recursive: true, force: true });
});

/** A journal line as the downloader writes it. */
function line(key: string, status: 'done' | 'failed', url: string, file: string | null): string {
  const at = '2025-01-01T00:00:00.000Z';
  const fields = { bytes: 3, content_type: 'image/jpeg', final_url: url, attempts: 1, error: null, detail: null };
  return formatRecord({ key, status, url, file, ...fields, permanent: false, at });
}

const readSourceUrl = async (dir: string, relPath: string) => (await readSource(dir, relPath))?.url ?? null;

describe('readSource', () => {
  it('gives the record time along with the URL', async () => {
    await writeFile(journal, line('00000000000000aa', 'done', 'https://a.example/1.jpg', '00000000000000aa.jpg'));
    expect(await readSource(images, '00000000000000aa.jpg')).toEqual({
      url: 'https://a.example/1.jpg',
      at: '2025-01-01T00:00:00.000Z',
    });
  });

  it('finds a picture in the journal, and pictures recorded after the first lookup', async () => {
    await writeFile(journal, line('00000000000000aa', 'done', 'https://a.example/1.jpg', '00000000000000aa.jpg'));
    expect(await readSourceUrl(images, '00000000000000aa.jpg')).toBe('https://a.example/1.jpg');

    await appendFile(journal, line('00000000000000bb', 'failed', 'https://b.example/404', null));
    await appendFile(
      journal,
      line('00000000000000cc', 'done', 'https://c.example/ünïcode.png', '00000000000000cc.png'),
    );
    expect(await readSourceUrl(images, '00000000000000cc.png')).toBe('https://c.example/ünïcode.png');
    expect(await readSourceUrl(images, '00000000000000aa.jpg')).toBe('https://a.example/1.jpg');
  });

  it('gives null for hand-dropped pictures, files in subfolders and failed URLs', async () => {
    await writeFile(journal, line('00000000000000bb', 'failed', 'https://b.example/404', null));
    expect(await readSourceUrl(images, 'holiday.jpg')).toBeNull();
    expect(await readSourceUrl(images, 'sub/00000000000000bb.jpg')).toBeNull();
    expect(await readSourceUrl(images, '00000000000000bb.jpg')).toBeNull();
  });

  it('reads the journal again after the downloader compacted it (rewritten and renamed over)', async () => {
    const lines = [
      line('00000000000000aa', 'failed', 'https://a.example/1.jpg', null),
      line('00000000000000dd', 'done', 'https://d.example/x.jpg', '00000000000000dd.jpg'),
      line('00000000000000aa', 'done', 'https://a.example/1.jpg', '00000000000000aa.jpg'),
    ];
    await writeFile(journal, lines.join(''));
    expect(await readSourceUrl(images, '00000000000000aa.jpg')).toBe('https://a.example/1.jpg');
    // compaction drops the superseded first line: every offset moves
    const compacted = `${journal}.tmp`;
    await writeFile(compacted, lines.slice(1).join(''));
    await rename(compacted, journal);
    expect(await readSourceUrl(images, '00000000000000aa.jpg')).toBe('https://a.example/1.jpg');
    expect(await readSourceUrl(images, '00000000000000dd.jpg')).toBe('https://d.example/x.jpg');
  });

  it('does not take a line still being written', async () => {
    const whole = line('00000000000000ee', 'done', 'https://e.example/1.jpg', '00000000000000ee.jpg');
    await writeFile(journal, whole.slice(0, 40));
    expect(await readSourceUrl(images, '00000000000000ee.jpg')).toBeNull();
    await appendFile(journal, whole.slice(40));
    expect(await readSourceUrl(images, '00000000000000ee.jpg')).toBe('https://e.example/1.jpg');
  });

  it('takes a line whatever the order of its fields, and skips lines of another version or torn ones', async () => {
    const record = JSON.parse(line('00000000000000ab', 'done', 'https://a.example/r.jpg', '00000000000000ab.jpg'));
    const reordered = Object.fromEntries(Object.entries(record).reverse());
    const future = { ...record, key: '00000000000000ac', file: '00000000000000ac.jpg', v: 2 };
    await writeFile(journal, `${JSON.stringify(future)}\n{"v":1,"key":"00\n${JSON.stringify(reordered)}\n`);
    expect(await readSourceUrl(images, '00000000000000ab.jpg')).toBe('https://a.example/r.jpg');
    expect(await readSourceUrl(images, '00000000000000ac.jpg')).toBeNull();
  });
});
