// The embedder against the shared Elasticsearch with the tiny synthetic model: what a user notices across rounds.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@image-search/log';
import { aliasTargets, knnSearch } from '@image-search/search-index';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEmbedder } from '../src/embedder.ts';
import {
  colourPicture,
  counting,
  doneRecordLine,
  realPhotos,
  settingsFor,
  sha,
  sharedCluster,
  tinyModel,
  uniqueAlias,
  workDirs,
} from './fixtures.ts';

const logger = createLogger('embedder-test', { level: 'error' });
const { client, aliases, roots } = sharedCluster();

async function docCount(alias: string): Promise<number> {
  await client.indices.refresh({ index: alias });
  return (await client.count({ index: alias })).count;
}

describe('embedder', () => {
  let dirs: Awaited<ReturnType<typeof workDirs>>;
  let alias: string;

  beforeAll(async () => {
    dirs = await workDirs('rounds');
    roots.push(dirs.root);
    alias = uniqueAlias('rounds');
    aliases.push(alias);
  });

  it('indexes every picture once, keeps what it learnt, and follows touches, replacements and deletions', async () => {
    const { images } = dirs;
    const write = async (name: string, data: Buffer) => {
      await mkdir(path.dirname(path.join(images, name)), { recursive: true });
      await writeFile(path.join(images, name), data);
    };
    const red1 = await colourPicture('red', 1);
    await write('red1.png', red1);
    await write('red2.jpg', await colourPicture('red', 2, 'jpeg'));
    await write('green.png', await colourPicture('green', 1));
    await write('green-copy.png', await colourPicture('green', 1));
    await write('blue.png', await colourPicture('blue', 1));
    // named as the downloader names what it stores: sha1(url)[:16] and the real extension
    const yellow = await colourPicture('yellow', 1);
    const yellowName = '0123456789abcdef.png';
    await write(yellowName, yellow);
    await write('dropped/by-hand/red3.png', await colourPicture('red', 3));
    await write('broken.jpg', Buffer.concat([red1.subarray(0, 40), Buffer.alloc(50, 7)]));
    await write('notes.txt', Buffer.from('not a picture'));
    await write('.hidden.png', await colourPicture('blue', 9));
    // the downloader gives the source URL of what it stores in its record journal
    const yellowRecord = doneRecordLine({
      key: '0123456789abcdef',
      url: 'https://example.com/yellow.png',
      file: yellowName,
      bytes: yellow.length,
      at: new Date(),
    });
    await write('.downloader/records.jsonl', yellowRecord);
    const photos = await realPhotos(2);
    for (const p of photos) await copyFile(p, path.join(images, path.basename(p)));
    const distinct = 6 + photos.length;

    const { model, calls } = counting(await tinyModel());
    const settings = settingsFor(dirs, alias);
    const run = async () => (await runEmbedder(settings, { logger, model, once: true }))[0];

    const first = await run();
    expect(first).toMatchObject({ embedded: distinct, duplicates: 1, failed: 2, complete: true });
    expect(await docCount(alias)).toBe(distinct);
    const red1Doc = await client.get<Record<string, unknown>>({ index: alias, id: sha(red1) });
    expect(red1Doc._source).toMatchObject({
      path: 'red1.png',
      file_name: 'red1.png',
      source_url: null,
      width: 48,
      height: 40,
      content_type: 'image/png',
      model: `${model.manifest.name}/${model.manifest.pretrained}`,
      thumbnail: `${sha(red1)}.webp`,
    });
    expect(existsSync(path.join(dirs.thumbnails, `${sha(red1)}.webp`))).toBe(true);
    const yellowDoc = await client.get<Record<string, unknown>>({ index: alias, id: sha(yellow) });
    expect(yellowDoc._source).toMatchObject({ path: yellowName, source_url: 'https://example.com/yellow.png' });
    const byHand = await client.search({ index: alias, query: { term: { path: 'dropped/by-hand/red3.png' } } });
    expect(byHand.hits.hits).toHaveLength(1);

    // "red" finds the three red pictures before anything else.
    const [red] = await model.text.embed(['red']);
    const hits = await knnSearch(client, alias, { vector: red, k: 3, numCandidates: 50 });
    expect(hits.map((h) => h.doc.path).sort()).toEqual(['dropped/by-hand/red3.png', 'red1.png', 'red2.jpg']);

    // An unchanged folder: no model call, no write (the journal stays byte for byte the same).
    const journal = path.join(settings.stateDir, `${(await aliasTargets(client, alias))[0]}.jsonl`);
    const before = await stat(journal);
    const callsBefore = calls();
    const second = await run();
    expect(second).toMatchObject({ candidates: 0, embedded: 0, knownFailed: 2, unchanged: distinct + 1 });
    expect(calls()).toBe(callsBefore);
    expect((await stat(journal)).size).toBe(before.size);

    // Touched (same bytes): re-read, not re-embedded. Replaced: the new picture in, the old one out.
    const later = new Date(Date.now() + 5000);
    await utimes(path.join(images, 'green.png'), later, later);
    const blueOld = await readFile(path.join(images, 'blue.png'));
    await write('blue.png', await colourPicture('purple', 1));
    const third = await run();
    expect(third).toMatchObject({ candidates: 2, embedded: 1, duplicates: 1, removed: 1 });
    expect(await docCount(alias)).toBe(distinct);
    expect(existsSync(path.join(dirs.thumbnails, `${sha(blueOld)}.webp`))).toBe(false);

    // Deleting one of two copies keeps the document (now naming the other path); deleting the only copy removes it.
    await rm(path.join(images, 'green.png'));
    await rm(path.join(images, yellowName));
    const fourth = await run();
    expect(fourth).toMatchObject({ deletedPaths: 2, removed: 1, repointed: 1, embedded: 0 });
    expect(await docCount(alias)).toBe(distinct - 1);
    const green = await client.get<{ path: string }>({ index: alias, id: sha(await colourPicture('green', 1)) });
    expect(green._source?.path).toBe('green-copy.png');

    // A corrupt file that gets fixed is indexed on the next round.
    await write('broken.jpg', await colourPicture('white', 1, 'jpeg'));
    expect(await run()).toMatchObject({ candidates: 1, embedded: 1, knownFailed: 1 });
    expect(await docCount(alias)).toBe(distinct);

    // State lost: every file is read and hashed again, the index is asked in batches, and the model is not called.
    await rm(settings.stateDir, { recursive: true });
    const callsBeforeLoss = calls();
    const afterLoss = await run();
    expect(afterLoss).toMatchObject({ embedded: 0, alreadyIndexed: distinct, duplicates: 0, failed: 1 });
    expect(calls()).toBe(callsBeforeLoss);
    expect(await docCount(alias)).toBe(distinct);
  });

  it('builds a new model index beside the old one and moves the alias only after a complete round', async () => {
    const d = await workDirs('model-change');
    roots.push(d.root);
    const a = uniqueAlias('model-change');
    aliases.push(a);
    await writeFile(path.join(d.images, 'red.png'), await colourPicture('red', 7));
    await writeFile(path.join(d.images, 'blue.png'), await colourPicture('blue', 7));
    const model = await tinyModel();
    await runEmbedder(settingsFor(d, a, { HNSW_M: 8 }), { logger, model, once: true });
    const [oldIndex] = await aliasTargets(client, a);

    // New index settings stand in for a new model: same alias, a new concrete index.
    let seenDuringRound: string[] = [];
    const watching = {
      ...model,
      image: {
        embed: async (batch: Float32Array[]) => {
          seenDuringRound = await aliasTargets(client, a);
          return model.image.embed(batch);
        },
      },
    };
    const [summary] = await runEmbedder(settingsFor(d, a, { HNSW_M: 12 }), { logger, model: watching, once: true });
    expect(summary).toMatchObject({ embedded: 2, promoted: true });
    expect(seenDuringRound).toEqual([oldIndex]);
    const [newIndex] = await aliasTargets(client, a);
    expect(newIndex).not.toBe(oldIndex);
    expect(await docCount(oldIndex)).toBe(2);
    expect(await docCount(a)).toBe(2);
  });
});
