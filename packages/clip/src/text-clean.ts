// Text cleaning as OpenCLIP's SimpleTokenizer does it before BPE (clean='lower'):
// ftfy.fix_text → html.unescape twice → strip → collapse whitespace → lower-case.
// ftfy is reproduced for what reaches a search box (quotes, ligatures, full-width forms, control characters, line
// breaks, C1 controls, NFC, simple UTF-8-as-Windows-1252 mojibake); its full mojibake heuristics are not.
import { HTML5_ENTITIES } from './html-entities.ts';

/** Python's str.isspace() characters: what str.split() and str.strip() treat as whitespace. */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'g');
const PY_EDGE_WHITESPACE = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'g');

/** The same as Python's `" ".join(text.split())`. */
export function collapseWhitespace(text: string): string {
  return text.replace(PY_EDGE_WHITESPACE, '').replace(PY_WHITESPACE_RUN, ' ');
}

// Windows-1252 for bytes 0x80–0x9f; the five undefined bytes map to themselves ("sloppy" decoding, as ftfy does).
const CP1252_HIGH =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';
const CP1252_BYTE = new Map<string, number>();
for (let i = 0; i < 256; i++)
  CP1252_BYTE.set(i >= 0x80 && i < 0xa0 ? CP1252_HIGH[i - 0x80]! : String.fromCharCode(i), i);

// ---- html.unescape, as CPython implements it ----

const INVALID_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  ...Array.from({ length: 32 }, (_, i) => [0x80 + i, CP1252_HIGH[i]!] as [number, string]),
]);

function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

function numericCharref(num: number): string {
  const invalid = INVALID_CHARREFS.get(num);
  if (invalid !== undefined) return invalid;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isInvalidCodepoint(num)) return '';
  return String.fromCodePoint(num);
}

function replaceCharref(_match: string, ref: string): string {
  if (ref[0] === '#') {
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
    // Python's int() has no upper bound; anything past U+10FFFF becomes U+FFFD either way.
    const num = digits.length > 8 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, hex ? 16 : 10);
    return numericCharref(num);
  }
  const named = HTML5_ENTITIES[ref];
  if (named !== undefined) return named;
  // The longest known prefix wins ("&ampfoo" → "&foo"), as the HTML standard and CPython do.
  for (let x = ref.length - 1; x > 1; x--) {
    const prefix = HTML5_ENTITIES[ref.slice(0, x)];
    if (prefix !== undefined) return prefix + ref.slice(x);
  }
  return `&${ref}`;
}

/** Python's html.unescape. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, replaceCharref);
}

// ---- ftfy.fix_text (default configuration) ----

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy's own entity step: only complete `&name;` / `&#n;` references, skipped when the text looks like HTML. */
function ftfyUnescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(FTFY_ENTITY, (entity) => {
    if (entity.startsWith('&#')) {
      const unescaped = htmlUnescape(entity);
      return unescaped.includes(';') ? entity : unescaped;
    }
    return HTML5_ENTITIES[entity.slice(1)] ?? entity;
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC, which is what this removes.
const TERMINAL_ESCAPE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;

// A UTF-8 sequence that was decoded as Windows-1252: a lead byte then continuation bytes, all as cp1252 characters.
const MOJIBAKE_SEQUENCE =
  /[\xc2-\xdf][\x80-\xbf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]|[\xe0-\xef][\x80-\xbf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]{2}|[\xf0-\xf4][\x80-\xbf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]{3}/g;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Undo the commonest mojibake (UTF-8 read as Windows-1252/Latin-1), one valid sequence at a time. */
function fixSimpleMojibake(text: string): string {
  if (!/[\xc2-\xf4]/.test(text)) return text;
  return text.replace(MOJIBAKE_SEQUENCE, (seq) => {
    const bytes = Uint8Array.from(seq, (ch) => CP1252_BYTE.get(ch)!);
    try {
      return STRICT_UTF8.decode(bytes);
    } catch {
      return seq;
    }
  });
}

const C1_CONTROL = /[\x80-\x9f]/g;

const LIGATURES = new Map<string, string>(
  [
    ...'\u0132\u0133\u013f\u0140\u0149\u01c4\u01c5\u01c6\u01c7\u01c8\u01c9\u01ca\u01cb\u01cc\u01f1\u01f2\u01f3\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06',
  ].map((ch) => [ch, ch.normalize('NFKC')]),
);
const LIGATURE = /[\u0132\u0133\u013f\u0140\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

// Full-width and half-width forms (U+FF01–U+FFEF) to their NFKC equivalents, and the ideographic space to a space.
const WIDTH_FORM = /[\uff01-\uffef\u3000]/g;
function widthReplacement(ch: string): string {
  return ch === '\u3000' ? ' ' : ch.normalize('NFKC');
}

// Control characters ftfy removes: C0 except tab, LF, FF, CR; DEL; deprecated format characters; BOM; the
// interlinear annotation characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job.
const CONTROL_CHAR = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

function fixOneStep(input: string): string {
  let text = input;
  if (!text.includes('<')) text = ftfyUnescapeHtml(text);
  if (text.includes('\x1b')) text = text.replace(TERMINAL_ESCAPE, '');
  text = fixSimpleMojibake(text);
  text = text.replace(C1_CONTROL, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80]!);
  text = text.replace(LIGATURE, (ch) => LIGATURES.get(ch) ?? ch);
  text = text.replace(WIDTH_FORM, widthReplacement);
  text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  text = text.replace(/\r\n|[\r\u2028\u2029\x85]/g, '\n');
  text = text.replace(CONTROL_CHAR, '');
  return text.normalize('NFC');
}

/** ftfy.fix_text with its default settings, as far as this module reproduces it (see the header). */
export function fixText(input: string): string {
  let text = input;
  // ftfy repeats its fixes until the text stops changing.
  for (let i = 0; i < 4; i++) {
    const fixed = fixOneStep(text);
    if (fixed === text) break;
    text = fixed;
  }
  return text;
}

// Every character the pipeline below may change; plain printable ASCII without '&' needs only whitespace + case.
const NEEDS_FIXING = /[^\x20-\x25\x27-\x7e]/;

/** OpenCLIP's `_clean_lower`: whitespace_clean(basic_clean(text)).lower(). */
export function cleanLower(text: string): string {
  if (!NEEDS_FIXING.test(text)) return collapseWhitespace(text).toLowerCase();
  const basic = collapseWhitespace(htmlUnescape(htmlUnescape(fixText(text))));
  return basic.toLowerCase();
}
