import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanLower, htmlUnescape } from '../src/text-clean.ts';
import { END_TOKEN, START_TOKEN, Tokenizer } from '../src/tokenizer.ts';
import { fixture } from './fixtures.ts';

const vocab = fixture('clip/bpe_simple_vocab_16e6.txt.gz');
const golden = fixture('clip/tokenizer-golden.json');
const missing = vocab.missing ?? golden.missing;
if (missing) console.warn(`tokenizer golden tests skipped: ${missing}`);

interface GoldenCase {
  text: string;
  tokens: number[];
  tags?: string[];
}

describe.skipIf(missing !== undefined)('Tokenizer against the OpenCLIP reference', async () => {
  const tokenizer = missing ? undefined : await Tokenizer.fromFile(vocab.path);
  const cases: GoldenCase[] = missing ? [] : JSON.parse(readFileSync(golden.path, 'utf8')).cases;

  it('has the 49408-entry CLIP vocabulary', () => {
    expect(tokenizer!.vocabSize).toBe(49408);
  });

  it.each(cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 60), c] as const))(
    'golden case %i %s',
    (_i, _label, c) => {
      expect(tokenizer!.tokenize(c.text)).toEqual(c.tokens);
    },
  );

  it('encode is tokenize without start, end and padding', () => {
    expect(tokenizer!.encode('a photo of a dog')).toEqual([320, 1125, 539, 320, 1929]);
    expect(tokenizer!.encode('')).toEqual([]);
  });

  it('truncates long text to the context length with the end token last', () => {
    const ids = tokenizer!.tokenize('dog '.repeat(200));
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(START_TOKEN);
    expect(ids[76]).toBe(END_TOKEN);
    expect(ids.slice(1, 76).every((id) => id === 1929)).toBe(true);
    expect(tokenizer!.tokenize('a photo of a dog', 4)).toEqual([START_TOKEN, 320, 1125, END_TOKEN]);
  });

  it('tokenizeBatch writes int64 rows and reports lengths with start and end', () => {
    const { ids, lengths } = tokenizer!.tokenizeBatch(['a photo of a dog', '', 'dog '.repeat(200)]);
    expect(ids).toBeInstanceOf(BigInt64Array);
    expect(ids).toHaveLength(3 * 77);
    expect(lengths).toEqual([7, 2, 77]);
    expect(Array.from(ids.subarray(0, 8), Number)).toEqual([START_TOKEN, 320, 1125, 539, 320, 1929, END_TOKEN, 0]);
    expect(Array.from(ids.subarray(77, 80), Number)).toEqual([START_TOKEN, END_TOKEN, 0]);
    expect(Number(ids[3 * 77 - 1])).toBe(END_TOKEN);
  });

  it('gives the same ids from a warm cache as from a cold one', () => {
    const text = 'zebras grazing near an acacia tree';
    const first = tokenizer!.tokenize(text);
    expect(tokenizer!.tokenize(text)).toEqual(first);
  });
});

describe('text cleaning', () => {
  it('unescapes HTML like Python, including entities without a semicolon and numeric references', () => {
    expect(htmlUnescape('&amp; &lt;b&gt; &eacute; &#233; &#xE9; &ampfoo &notit; &#128512; &#0; &#x80;')).toBe(
      '& <b> é é é &foo ¬it; 😀 \ufffd €',
    );
  });

  it('fixes quotes, ligatures, full-width forms, control characters, line breaks and whitespace, then lower-cases', () => {
    expect(cleanLower('“Ｆｉｓｈ” ﬁsh\u0007\r\nＮＥＷ\u3000line  ')).toBe('"fish" fish new line');
    expect(cleanLower('Ã©tÃ©')).toBe('été');
    expect(cleanLower('cafe\u0301')).toBe('café');
  });
});
