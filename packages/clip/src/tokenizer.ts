// OpenCLIP's SimpleTokenizer (clean='lower'): byte-level BPE over the CLIP merges file, same ids as the Python reference.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { cleanLower } from './text-clean.ts';

export const START_TOKEN = 49406;
export const END_TOKEN = 49407;
export const CONTEXT_LENGTH = 77;

const START_TEXT = '<start_of_text>';
const END_TEXT = '<end_of_text>';
/** The merges OpenCLIP uses: lines 1 .. 49152-256-2 of the file (line 0 is a version header). */
const MERGE_COUNT = 49152 - 256 - 2;
const WORD_CACHE_SIZE = 10_000;

// Special tokens first, then the contractions, letter runs, single digits, and runs of everything else.
const TOKEN_PATTERN = /<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/**
 * GPT-2's reversible byte → printable character map (so BPE never sees whitespace or control bytes), as
 * [byte, char] pairs in the reference's order: printable bytes first, then the rest. That order is the vocabulary's.
 */
function bytesToUnicode(): Array<[number, string]> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const pairs: Array<[number, string]> = printable.map((b) => [b, String.fromCharCode(b)]);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) pairs.push([b, String.fromCharCode(256 + extra++)]);
  }
  return pairs;
}

function byteEncoderTable(): string[] {
  const table = new Array<string>(256);
  for (const [b, ch] of bytesToUnicode()) table[b] = ch;
  return table;
}

/** A small least-recently-used map: Map keeps insertion order, so re-inserting on a hit moves an entry to the end. */
class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
}

export class Tokenizer {
  private readonly byteEncoder = byteEncoderTable();
  private readonly utf8 = new TextEncoder();
  private readonly wordCache = new LruCache<readonly number[]>(WORD_CACHE_SIZE);

  private constructor(
    private readonly encoder: ReadonlyMap<string, number>,
    /** "first second" → merge rank (lower merges first). */
    private readonly bpeRanks: ReadonlyMap<string, number>,
  ) {}

  /** Reads the gzip-compressed merges file (`bpe_simple_vocab_16e6.txt.gz`). */
  static async fromFile(vocabGzPath: string): Promise<Tokenizer> {
    return Tokenizer.fromMerges(gunzipSync(await readFile(vocabGzPath)).toString('utf8'));
  }

  /** Builds the tokenizer from the uncompressed merges text. */
  static fromMerges(mergesText: string): Tokenizer {
    const lines = mergesText.split('\n').slice(1, MERGE_COUNT + 1);
    const byteChars = bytesToUnicode().map(([, ch]) => ch);
    const vocab = [...byteChars, ...byteChars.map((c) => `${c}</w>`)];
    const ranks = new Map<string, number>();
    lines.forEach((line, rank) => {
      const [first, second] = line.split(/\s+/);
      if (first === undefined || second === undefined) throw new Error(`bad BPE merge on line ${rank + 2}: "${line}"`);
      ranks.set(`${first} ${second}`, rank);
      vocab.push(first + second);
    });
    vocab.push(START_TEXT, END_TEXT);
    const encoder = new Map(vocab.map((token, id) => [token, id]));
    if (encoder.get(START_TEXT) !== START_TOKEN || encoder.get(END_TEXT) !== END_TOKEN) {
      throw new Error(
        `BPE vocabulary has ${vocab.length} entries; expected ${END_TOKEN + 1} (is this the CLIP merges file?)`,
      );
    }
    return new Tokenizer(encoder, ranks);
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  /** BPE ids of the cleaned text, without start/end tokens. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanLower(text).matchAll(TOKEN_PATTERN)) {
      const word = match[0];
      let wordIds = this.wordCache.get(word);
      if (wordIds === undefined) {
        wordIds = this.encodeWord(word);
        this.wordCache.set(word, wordIds);
      }
      for (const id of wordIds) ids.push(id);
    }
    return ids;
  }

  /** `[START, ...ids, END, 0, ...]` of length contextLength; too long → truncated with the last id forced to END. */
  tokenize(text: string, contextLength = CONTEXT_LENGTH): number[] {
    const row = new Array<number>(contextLength).fill(0);
    this.writeRow(text, contextLength, (i, id) => {
      row[i] = id;
    });
    return row;
  }

  /** Row-major `[texts.length, contextLength]` int64 ids; lengths count the start and end tokens. */
  tokenizeBatch(texts: string[], contextLength = CONTEXT_LENGTH): { ids: BigInt64Array; lengths: number[] } {
    const ids = new BigInt64Array(texts.length * contextLength);
    const lengths = texts.map((text, row) =>
      this.writeRow(text, contextLength, (i, id) => {
        ids[row * contextLength + i] = BigInt(id);
      }),
    );
    return { ids, lengths };
  }

  private writeRow(text: string, contextLength: number, put: (i: number, id: number) => void): number {
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new RangeError(`contextLength must be an integer >= 2, got ${contextLength}`);
    }
    const body = this.encode(text);
    const length = Math.min(body.length + 2, contextLength);
    put(0, START_TOKEN);
    for (let i = 1; i < length - 1; i++) put(i, body[i - 1]!);
    put(length - 1, END_TOKEN);
    return length;
  }

  private encodeWord(word: string): number[] {
    if (word === START_TEXT) return [START_TOKEN];
    if (word === END_TEXT) return [END_TOKEN];
    let chars: string[];
    if (/^[\x21-\x7e]+$/.test(word)) {
      // Printable ASCII maps to itself in the byte encoder.
      chars = word.split('');
    } else {
      chars = Array.from(this.utf8.encode(word), (b) => this.byteEncoder[b]!);
    }
    return this.bpe(chars).map((piece) => {
      const id = this.encoder.get(piece);
      if (id === undefined) throw new Error(`BPE produced a piece outside the vocabulary: ${piece}`);
      return id;
    });
  }

  /** The reference merge loop: repeatedly merge the lowest-ranked adjacent pair everywhere it occurs. */
  private bpe(chars: string[]): string[] {
    let word = chars.slice();
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.bpeRanks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (bestRank === Number.POSITIVE_INFINITY) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    return word;
  }
}
