import { describe, expect, it } from 'vitest';
import { decodeStoredPicture, encodeStoredPicture } from '../src/message.ts';

const picture = { contentId: 'a'.repeat(64), file: 'ab/cd.jpg', sourceUrl: 'https://example.com/cd.jpg' };

describe('stored-picture message', () => {
  it('round-trips and carries its version', () => {
    const body = encodeStoredPicture(picture);
    expect(JSON.parse(body.toString()).v).toBe(1);
    expect(decodeStoredPicture(body)).toEqual({ picture });
  });

  it('refuses what a reader of this version cannot trust, saying why', () => {
    const bad = (o: unknown) => decodeStoredPicture(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)));
    expect(bad('{not json')).toEqual({ error: 'unreadable message: not JSON' });
    expect(bad({ ...picture, v: 2 })).toMatchObject({ error: expect.stringMatching(/^unreadable message: v /) });
    expect(bad({ ...picture, v: 1, contentId: 'xyz' })).toMatchObject({ error: expect.stringContaining('contentId') });
    expect(bad({ ...picture, v: 1, file: '../etc/passwd' })).toMatchObject({ error: expect.stringContaining('file') });
    expect(bad({ ...picture, v: 1, file: '/abs.jpg' })).toMatchObject({ error: expect.stringContaining('file') });
  });
});
