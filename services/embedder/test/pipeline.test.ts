// The pipeline with stubs at its seams (model, decoder, index): batching, overlap, duplicates and failures.
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Preprocessed } from '@image-search/clip';
import { createLogger } from '@image-search/log';
import type { BulkOp } from '@image-search/search-index';
import { afterEach, describe, expect, it } from 'vitest';
import { embedCandidates, MAX_FILE_BYTES } from '../src/pipeline.ts';
import { scanFolder } from '../src/scan.ts';
import { StateStore } from '../src/state.ts';

const logger = createLogger('test', { level: 'error' });
let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

class DecodeError extends Error {
  readonly code = 'corrupt';
}

async function setup(files: Record<string, string>) {
  dir = await mkdtemp(path.join(os.tmpdir(), 'embedder-pipeline-'));
  const images = path.join(dir, 'images');
  const thumbs = path.join(dir, 'thumbs');
  await mkdir(thumbs, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(images, name)), { recursive: true });
    await writeFile(path.join(images, name), content);
  }
  const store = await StateStore.open(path.join(dir, 'state.jsonl'));
  return { images, thumbs, store };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('embedding pipeline', () => {
  it('skips hidden paths when scanning', async () => {
    const { images } = await setup({
      'a.jpg': 'a',
      'sub/b.jpg': 'b',
      '.downloader/files/a.jpg.json': '{}',
      '.x.tmp-1': 'x',
    });
    expect((await scanFolder(images)).map((f) => f.path).sort()).toEqual(['a.jpg', 'sub/b.jpg']);
  });

  it('embeds full batches, writes one batch while the model runs the next, and shares one document among copies', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`p${i}.png`] = `picture ${i}`;
    files['copy-of-p3.png'] = 'picture 3';
    files['broken.png'] = 'BROKEN';
    const { images, thumbs, store } = await setup(files);
    const events: string[] = [];
    const writes: BulkOp[][] = [];
    const counts = await embedCandidates(
      {
        imagesDir: images,
        thumbnailsDir: thumbs,
        batchSize: 4,
        model: 'stub/test',
        store,
        logger,
        preprocess: async (data): Promise<Preprocessed> => {
          if (data.toString() === 'BROKEN') throw new DecodeError('not an image');
          return { tensor: new Float32Array(3), width: 2, height: 1, format: 'png', thumbnail: Buffer.from('webp') };
        },
        embed: async (batch) => {
          events.push(`embed ${batch.length}`);
          await sleep(20);
          return batch.map(() => new Float32Array([1, 0]));
        },
        write: async (ops) => {
          events.push('write start');
          await sleep(60);
          writes.push(ops);
          events.push('write end');
          return { ok: ops.length, failed: [] };
        },
        existing: async () => new Set(),
      },
      (await scanFolder(images)).map((f) => f),
    );
    expect(counts).toMatchObject({ embedded: 10, duplicates: 1, failed: 1, errors: 0 });
    expect(events.filter((e) => e.startsWith('embed'))).toEqual(['embed 4', 'embed 4', 'embed 2']);
    // The second batch was embedded while the first was still being written.
    expect(events.indexOf('embed 4', 1)).toBeLessThan(events.indexOf('write end'));
    expect(writes.flat().map((o) => o.id).length).toBe(10);
    const copy = store.get('copy-of-p3.png');
    expect(copy?.status).toBe('indexed');
    expect(store.get('p3.png')?.id).toBe(copy?.id);
    expect(store.get('broken.png')).toMatchObject({ status: 'failed', reason: 'corrupt: not an image' });
  });

  it('records nothing for a document the index has not acknowledged', async () => {
    const { images, thumbs, store } = await setup({ 'a.png': 'a', 'b.png': 'b' });
    await expect(
      embedCandidates(
        {
          imagesDir: images,
          thumbnailsDir: thumbs,
          batchSize: 2,
          model: 'stub/test',
          store,
          logger,
          preprocess: async () => ({ tensor: new Float32Array(3), width: 1, height: 1, format: 'png' }),
          embed: async (batch) => batch.map(() => new Float32Array([1])),
          write: async () => {
            throw new Error('mapping exploded');
          },
          existing: async () => new Set(),
        },
        await scanFolder(images),
      ),
    ).rejects.toThrow('mapping exploded');
    expect(store.size).toBe(0);
  });

  it('records a file too big to be a picture without reading it', async () => {
    const { images, thumbs, store } = await setup({ 'huge.jpg': '' });
    await truncate(path.join(images, 'huge.jpg'), MAX_FILE_BYTES + 1); // sparse: no disk used
    let decoded = 0;
    const counts = await embedCandidates(
      {
        imagesDir: images,
        thumbnailsDir: thumbs,
        batchSize: 2,
        model: 'stub/test',
        store,
        logger,
        preprocess: async () => {
          decoded++;
          throw new Error('must not be called');
        },
        embed: async () => [],
        write: async () => ({ ok: 0, failed: [] }),
        existing: async () => new Set(),
      },
      await scanFolder(images),
    );
    expect(counts).toMatchObject({ failed: 1, errors: 0 });
    expect(decoded).toBe(0);
    expect(store.get('huge.jpg')?.reason).toMatch(/^too_large/);
  });
});
