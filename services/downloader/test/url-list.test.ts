import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLines, parseListLine } from '../src/url-list.ts';

describe('parseListLine', () => {
  it('ignores blank lines and # comments, trims whitespace', () => {
    expect(parseListLine('')).toEqual({ kind: 'skip' });
    expect(parseListLine('   \t ')).toEqual({ kind: 'skip' });
    expect(parseListLine('# a comment')).toEqual({ kind: 'skip' });
    expect(parseListLine('   # indented comment')).toEqual({ kind: 'skip' });
    expect(parseListLine('  https://example.com/a.jpg \r')).toEqual({ kind: 'url', url: 'https://example.com/a.jpg' });
  });

  it('keeps the URL exactly as written (the file name is sha1 of it)', () => {
    expect(parseListLine('HTTP://Example.com/A.JPG?x=1#frag')).toEqual({
      kind: 'url',
      url: 'HTTP://Example.com/A.JPG?x=1#frag',
    });
  });

  it('reports lines that are not http(s) URLs, with why', () => {
    expect(parseListLine('not a url')).toMatchObject({ kind: 'invalid', why: 'contains spaces' });
    expect(parseListLine('example.com/a.jpg')).toMatchObject({ kind: 'invalid', why: 'not a URL' });
    expect(parseListLine('ftp://example.com/a.jpg')).toMatchObject({ kind: 'invalid', why: /only http: and https:/ });
    expect(parseListLine('javascript:alert(1)')).toMatchObject({ kind: 'invalid' });
    expect(parseListLine('data:image/png;base64,AAAA')).toMatchObject({ kind: 'invalid' });
  });
});

describe('listLines', () => {
  it('streams every line with its number, CRLF or LF', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'url-list-'));
    const file = path.join(dir, 'urls.txt');
    await writeFile(file, '# list\r\nhttp://a.test/1.jpg\r\n\r\nbad line\nhttp://a.test/2.jpg');
    const seen: Array<[number, string]> = [];
    for await (const { lineNo, line } of listLines(file)) seen.push([lineNo, line.kind]);
    expect(seen).toEqual([
      [1, 'skip'],
      [2, 'url'],
      [3, 'skip'],
      [4, 'invalid'],
      [5, 'url'],
    ]);
    await rm(dir, { recursive: true });
  });

  it('throws ENOENT for a missing list', async () => {
    const lines = listLines(path.join(os.tmpdir(), 'surely-not-here', 'urls.txt'));
    await expect(lines.next()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
