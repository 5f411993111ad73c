// Putting a verified download in place: the sidecar before the picture, a sidecar already there replaced whole.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitDownload, sidecarDir, tempPathFor } from '../src/store.ts';

let out: string;

beforeEach(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'downloader-store-'));
  await mkdir(sidecarDir(out), { recursive: true });
});

afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

const sidecar = (url: string) => ({
  url,
  final_url: url,
  content_type: 'image/jpeg',
  bytes: 3,
  fetched_at: '2025-01-01T00:00:00.000Z',
});

async function stage(bytes: Buffer): Promise<string> {
  const tmp = tempPathFor(out, 'abc');
  await writeFile(tmp, bytes);
  return tmp;
}

describe('commitDownload', () => {
  it('puts the picture and its sidecar in place and leaves no temporary file', async () => {
    commitDownload(out, await stage(Buffer.from([1, 2, 3])), 'abc.jpg', sidecar('http://a.test/1'));
    expect(await readFile(path.join(out, 'abc.jpg'))).toEqual(Buffer.from([1, 2, 3]));
    const json = JSON.parse(await readFile(path.join(sidecarDir(out), 'abc.jpg.json'), 'utf8'));
    expect(json).toEqual(sidecar('http://a.test/1'));
    expect((await readdir(out)).sort()).toEqual(['.downloader', 'abc.jpg']);
    expect(await readdir(sidecarDir(out))).toEqual(['abc.jpg.json']);
  });

  it('replaces a sidecar and picture that are already there (the same URL fetched again)', async () => {
    commitDownload(out, await stage(Buffer.from([1, 2, 3])), 'abc.jpg', sidecar('http://a.test/old'));
    commitDownload(out, await stage(Buffer.from([4, 5, 6])), 'abc.jpg', sidecar('http://a.test/new'));
    expect(await readFile(path.join(out, 'abc.jpg'))).toEqual(Buffer.from([4, 5, 6]));
    const json = JSON.parse(await readFile(path.join(sidecarDir(out), 'abc.jpg.json'), 'utf8'));
    expect(json.url).toBe('http://a.test/new');
    expect(await readdir(sidecarDir(out))).toEqual(['abc.jpg.json']);
  });
});
