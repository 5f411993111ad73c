// How stored pictures are named: sha1(url)[:16] and the real type's extension.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePictureName, pictureFileName, pictureKey, stemKey } from '../src/index.ts';

describe('picture names', () => {
  it('names a URL by the first 16 hex digits of its sha1, and reads the name back', () => {
    const url = 'https://example.com/a.jpg';
    const key = pictureKey(url);
    expect(key.stem).toBe(createHash('sha1').update(url).digest('hex').slice(0, 16));
    expect(stemKey(key.stem)).toEqual(key);
    const name = pictureFileName(key.stem, '.jpg');
    expect(parsePictureName(name)).toEqual({ key, ext: '.jpg' });
  });

  it('reads no key from names it does not give', () => {
    for (const name of ['holiday.jpg', '0123456789abcdef.txt', '0123456789ABCDEF.jpg', '0123456789abcde.jpg']) {
      expect(parsePictureName(name), name).toBeUndefined();
    }
    expect(stemKey('xyz')).toBeUndefined();
  });
});
