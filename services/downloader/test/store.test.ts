// Putting a verified download in place from the writer thread: whole or not at all, no temporary file left behind.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CommitError, FileWriter } from '../src/file-writer.ts';
import { tempPathFor } from '../src/store.ts';

let out: string;
let writer: FileWriter;

beforeAll(() => {
  writer = new FileWriter();
});

afterAll(async () => {
  await writer.close();
});

beforeEach(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'downloader-store-'));
});

afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

/** A body as the receiver hands it over: buffers that own their memory. */
const owned = (...parts: number[][]) => parts.map((p) => Buffer.from(new Uint8Array(p).buffer));

describe('the file writer', () => {
  it('puts a body held in memory in place and leaves no temporary file', async () => {
    await writer.commit({ outputDir: out, fileName: 'abc.jpg', body: owned([1, 2, 3], [4, 5]) });
    expect(await readFile(path.join(out, 'abc.jpg'))).toEqual(Buffer.from([1, 2, 3, 4, 5]));
    expect(await readdir(out)).toEqual(['abc.jpg']);
  });

  it('puts a body already spilled to its temporary file in place', async () => {
    const tmp = tempPathFor(out, 'big');
    await writeFile(tmp, Buffer.from([7, 8, 9]));
    await writer.commit({ outputDir: out, fileName: 'big.png', tmp });
    expect(await readFile(path.join(out, 'big.png'))).toEqual(Buffer.from([7, 8, 9]));
    expect(await readdir(out)).toEqual(['big.png']);
  });

  it('replaces a picture already there (the same URL fetched again) whole', async () => {
    await writer.commit({ outputDir: out, fileName: 'abc.jpg', body: owned([1, 2, 3]) });
    await writer.commit({ outputDir: out, fileName: 'abc.jpg', body: owned([4, 5, 6]) });
    expect(await readFile(path.join(out, 'abc.jpg'))).toEqual(Buffer.from([4, 5, 6]));
    expect(await readdir(out)).toEqual(['abc.jpg']);
  });

  it('says why when it cannot, and leaves nothing behind', async () => {
    const gone = path.join(out, 'no-such-folder');
    const failed = writer.commit({ outputDir: gone, fileName: 'abc.jpg', body: owned([1]) });
    await expect(failed).rejects.toBeInstanceOf(CommitError);
    await expect(failed).rejects.toMatchObject({ code: 'ENOENT' });
    const tmp = tempPathFor(out, 'big');
    await writeFile(tmp, Buffer.from([7]));
    await expect(writer.commit({ outputDir: gone, fileName: 'big.png', tmp })).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await readdir(out)).toEqual([]);
  });
});
