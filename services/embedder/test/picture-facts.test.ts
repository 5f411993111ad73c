import { describe, expect, it } from 'vitest';
import { addedAt, embeddedFacts, orientationOf, pathFacts, pictureFacts, sourceHost } from '../src/picture-facts.ts';

describe('picture facts', () => {
  it('gathers keywords from IPTC, XMP and EXIF once each, and the first description found', () => {
    const facts = embeddedFacts({
      Keywords: ['beach', 'sea'],
      subject: 'beach',
      XPKeywords: 'sunset; sea',
      description: { lang: 'x-default', value: 'Evening' },
      ImageDescription: 'ignored: XMP said it first',
      DateTimeOriginal: new Date('2021-07-04T10:11:12Z'),
    });
    expect(facts).toEqual({
      takenAt: new Date('2021-07-04T10:11:12Z'),
      keywords: ['beach', 'sea', 'sunset'],
      description: 'Evening',
    });
    expect(embeddedFacts({ DateTimeOriginal: 'not a date', Caption: '  ' })).toEqual({
      takenAt: null,
      keywords: [],
      description: null,
    });
  });

  it('derives folder, file name, host and orientation, and dates a picture by when it was taken, else added', () => {
    expect(pathFacts('trips/2021/IMG_2041.jpg')).toEqual({ folder: 'trips/2021', file_name: 'IMG_2041.jpg' });
    expect(pathFacts('top.png')).toEqual({ folder: '', file_name: 'top.png' });
    expect(sourceHost('https://Pics.Example.org:8443/a.jpg')).toBe('pics.example.org');
    expect(sourceHost('not a url')).toBeNull();
    expect([orientationOf(4, 3), orientationOf(3, 4), orientationOf(5, 5)]).toEqual([
      'landscape',
      'portrait',
      'square',
    ]);
    const base = {
      path: 'a/b.jpg',
      width: 4,
      height: 3,
      format: 'jpeg',
      bytes: 10,
      source: null,
      modifiedAt: new Date('2024-01-01T00:00:00Z'),
    };
    expect(pictureFacts({ ...base, embedded: { takenAt: null, keywords: [], description: null } }).dated_at).toBe(
      '2024-01-01T00:00:00.000Z',
    );
    const taken = new Date('2020-02-02T00:00:00Z');
    expect(pictureFacts({ ...base, embedded: { takenAt: taken, keywords: [], description: null } })).toMatchObject({
      taken_at: taken.toISOString(),
      dated_at: taken.toISOString(),
      added_at: '2024-01-01T00:00:00.000Z',
    });
  });

  it("dates a downloaded picture's addition by its journal record, one added by hand by its file time", () => {
    const fileTime = new Date('2024-01-01T00:00:00Z');
    const source = { url: 'https://a.example/x.jpg', at: '2023-06-07T08:09:10.000Z' };
    expect(addedAt(source, fileTime)).toBe('2023-06-07T08:09:10.000Z');
    expect(addedAt(null, fileTime)).toBe('2024-01-01T00:00:00.000Z');
    expect(addedAt({ ...source, at: 'not a time' }, fileTime)).toBe('2024-01-01T00:00:00.000Z');
    const facts = pictureFacts({
      path: 'x.jpg',
      width: 4,
      height: 3,
      format: 'jpeg',
      bytes: 10,
      source,
      modifiedAt: fileTime,
      embedded: { takenAt: null, keywords: [], description: null },
    });
    expect([facts.added_at, facts.dated_at, facts.source_host]).toEqual([source.at, source.at, 'a.example']);
  });
});
