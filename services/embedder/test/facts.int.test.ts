// What each picture carries besides its vector, against the shared Elasticsearch with the tiny synthetic model: facts
// read from the bytes, the path and the journal; and the back-fill that gives them to documents indexed before.
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@image-search/log';
import { bulkWrite, concreteIndexName, FACT_FIELDS, indexBody } from '@image-search/search-index';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { indexSpecFor, runEmbedder } from '../src/embedder.ts';
import {
  colourPicture,
  doneRecordLine,
  settingsFor,
  sha,
  sharedCluster,
  tinyModel,
  uniqueAlias,
  workDirs,
} from './fixtures.ts';

const logger = createLogger('embedder-test', { level: 'error' });
const { client, aliases, roots } = sharedCluster();

const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
  '<dc:subject><rdf:Bag><rdf:li>beach</rdf:li><rdf:li>sunset</rdf:li></rdf:Bag></dc:subject>' +
  '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Evening at the beach</rdf:li></rdf:Alt></dc:description>' +
  '</rdf:Description></rdf:RDF></x:xmpmeta>';

/** A camera-like JPEG: EXIF date taken, XMP keywords and description, stored sideways (EXIF orientation 6). */
async function cameraPicture(): Promise<Buffer> {
  return sharp(await colourPicture('red', 11))
    .jpeg()
    .withExif({ IFD2: { DateTimeOriginal: '2021:07:04 10:11:12' } })
    .withMetadata({ orientation: 6 })
    .withXmp(XMP)
    .toBuffer();
}

async function put(images: string, name: string, data: Buffer, mtime?: Date) {
  const file = path.join(images, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  if (mtime) await utimes(file, mtime, mtime);
}

describe('picture facts', () => {
  it('records date taken, folder, file name, host, format, orientation and keywords of each new picture', async () => {
    const dirs = await workDirs('facts');
    roots.push(dirs.root);
    const alias = uniqueAlias('facts');
    aliases.push(alias);
    const camera = await cameraPicture();
    const added = new Date('2024-05-06T07:08:09.000Z');
    await put(dirs.images, 'trips/2021/IMG_2041.jpg', camera, added);
    const fromWeb = await colourPicture('blue', 11, 'png');
    await put(dirs.images, '0123456789abcdef.png', fromWeb, added);
    // the downloader's record time, not the file time, says when a downloaded picture was added
    const downloaded = new Date('2024-05-01T00:00:00.000Z');
    const record = doneRecordLine({
      key: '0123456789abcdef',
      url: 'https://pics.example.org/a/b.png',
      file: '0123456789abcdef.png',
      bytes: fromWeb.length,
      at: downloaded,
    });
    await put(dirs.images, '.downloader/records.jsonl', record);

    const [summary] = await runEmbedder(settingsFor(dirs, alias), { logger, model: await tinyModel(), once: true });
    expect(summary).toMatchObject({ embedded: 2, backfilled: 0 });

    const cameraDoc = await client.get({ index: alias, id: sha(camera) });
    expect(cameraDoc._source).toMatchObject({
      taken_at: '2021-07-04T10:11:12.000Z',
      added_at: added.toISOString(),
      dated_at: '2021-07-04T10:11:12.000Z',
      folder: 'trips/2021',
      file_name: 'IMG_2041.jpg',
      source_host: null,
      format: 'jpeg',
      // 48×40 stored, turned upright by its EXIF orientation
      width: 40,
      height: 48,
      orientation: 'portrait',
      bytes: camera.length,
      keywords: ['beach', 'sunset'],
      description: 'Evening at the beach',
    });
    const webDoc = await client.get({ index: alias, id: sha(fromWeb) });
    expect(webDoc._source).toMatchObject({
      taken_at: null,
      added_at: downloaded.toISOString(),
      dated_at: downloaded.toISOString(),
      folder: '',
      source_host: 'pics.example.org',
      format: 'png',
      orientation: 'landscape',
      keywords: [],
      description: null,
    });

    // the file name and the keywords are searchable as words
    await client.indices.refresh({ index: alias });
    const byWord = await client.search({
      index: alias,
      query: {
        multi_match: {
          query: 'img_2041 sunset',
          fields: ['file_name.text', 'keywords'],
          type: 'cross_fields',
          operator: 'and',
        },
      },
    });
    expect(byWord.hits.hits.map((h) => h._id)).toEqual([sha(camera)]);
  });

  it('back-fills documents indexed before, in place: vectors untouched, each document written once', async () => {
    const dirs = await workDirs('backfill');
    roots.push(dirs.root);
    const alias = uniqueAlias('backfill');
    aliases.push(alias);
    const model = await tinyModel();
    const settings = settingsFor(dirs, alias);
    const pictures = [await cameraPicture(), await colourPicture('green', 12), await colourPicture('purple', 12)];
    const names = ['trips/2021/IMG_2041.jpg', 'green.png', 'sub/purple.png'];
    for (let i = 0; i < pictures.length; i++) await put(dirs.images, names[i], pictures[i]);

    // An index as the previous version made it: no fact fields, documents with vectors only this test knows.
    const spec = indexSpecFor(settings, model);
    const index = concreteIndexName(spec);
    const body = indexBody(spec);
    const oldProperties: Record<string, unknown> = { ...body.mappings.properties, file_name: { type: 'keyword' } };
    for (const field of Object.keys(FACT_FIELDS)) if (field !== 'file_name') delete oldProperties[field];
    await client.indices.create({
      index,
      settings: body.settings,
      mappings: { ...body.mappings, properties: oldProperties },
    } as never);
    await client.indices.putAlias({ index, name: alias });
    const vectors = pictures.map((_, i) => Array.from({ length: spec.dims }, (_, j) => (j === i ? 1 : 0)));
    await bulkWrite(
      client,
      index,
      pictures.map((p, i) => ({
        id: sha(p),
        doc: {
          path: names[i],
          vector: vectors[i],
          file_name: path.posix.basename(names[i]),
          source_url: null,
          width: 48,
          height: 40,
          bytes: p.length,
          content_type: 'image/png',
          model: spec.model,
          indexed_at: new Date(0).toISOString(),
        },
      })),
      { refresh: 'wait_for' },
    );

    const [first] = await runEmbedder(settings, { logger, model, once: true });
    expect(first).toMatchObject({ embedded: 0, alreadyIndexed: 3, backfilled: 3 });
    for (let i = 0; i < pictures.length; i++) {
      const doc = await client.get<Record<string, unknown>>({ index, id: sha(pictures[i]) });
      expect(doc._version).toBe(2);
      expect(doc._source?.vector).toEqual(vectors[i]);
      expect(doc._source).toMatchObject({ facts_version: 1, file_name: path.posix.basename(names[i]) });
    }
    const camera = await client.get<Record<string, unknown>>({ index, id: sha(pictures[0]) });
    expect(camera._source).toMatchObject({
      taken_at: '2021-07-04T10:11:12.000Z',
      folder: 'trips/2021',
      keywords: ['beach', 'sunset'],
    });

    // the mapping was extended in place: the new fields are searchable on the old index
    await client.indices.refresh({ index });
    const inFolder = await client.count({ index, query: { term: { folder: 'sub' } } });
    expect(inFolder.count).toBe(1);

    const [second] = await runEmbedder(settings, { logger, model, once: true });
    expect(second).toMatchObject({ embedded: 0, backfilled: 0 });
    for (const p of pictures) expect((await client.get({ index, id: sha(p) }))._version).toBe(2);
  });
});
