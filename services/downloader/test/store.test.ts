// Putting a verified download in place from the writer thread: whole or not at all, no temporary file left behind.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BodyArena } from '../src/body-arena.ts';
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

  it('writes a body from its arena slot and gives the slot back, whether it succeeds or fails', async () => {
    writer.start();
    const arena = writer.arena as BodyArena;
    const body = arena.take(4);
    body?.view.set([9, 8, 7, 6]);
    await writer.commit({ outputDir: out, fileName: 'slot.webp', body: [body?.view as Buffer], lent: body?.slot });
    expect(await readFile(path.join(out, 'slot.webp'))).toEqual(Buffer.from([9, 8, 7, 6]));
    const lost = arena.take(2);
    const gone = path.join(out, 'no-such-folder');
    await expect(
      writer.commit({ outputDir: gone, fileName: 'x.jpg', body: [lost?.view as Buffer], lent: lost?.slot }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect(arena.inUse).toBe(0);
  });

  it('lets the journal write its lines before any picture of a batch appears, and sends nothing when it cannot', async () => {
    const own = new FileWriter(4);
    const seen: boolean[] = [];
    own.start(() => seen.push(existsSync(path.join(out, 'a.jpg'))));
    await Promise.all([
      own.commit({ outputDir: out, fileName: 'a.jpg', body: owned([1]) }),
      own.commit({ outputDir: out, fileName: 'b.jpg', body: owned([2]) }),
    ]);
    expect(seen).toEqual([false]);
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    own.start(() => {
      throw full;
    });
    const body = own.arena?.take(1);
    await expect(
      own.commit({ outputDir: out, fileName: 'c.jpg', body: [body?.view as Buffer], lent: body?.slot }),
    ).rejects.toBe(full);
    expect(own.arena?.inUse).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['a.jpg', 'b.jpg']);
    await own.close();
  });
});

describe('the body arena', () => {
  it('lends slots up to its size, none for a body larger than a slot, and refuses a slot given back twice', () => {
    const arena = new BodyArena(2, 1024);
    expect(arena.take(2048)).toBeUndefined();
    const a = arena.take(1024);
    const b = arena.take(10);
    expect(a?.view.length).toBe(1024);
    expect(b?.view.length).toBe(10);
    expect(arena.take(1)).toBeUndefined();
    // two bodies never share memory
    expect(a?.view.byteOffset).not.toBe(b?.view.byteOffset);
    arena.release(a?.slot as number);
    expect(() => arena.release(a?.slot as number)).toThrow(/released twice/);
    expect(arena.take(5)?.slot).toBe(a?.slot);
    expect(arena.inUse).toBe(2);
  });
});
