// The search in the page URL, so a link can be shared and a reload repeats it: ?q=red&k=8 or ?similar=<id>&k=8, plus
// the options that differ from the defaults (search-options.ts). A search by picture cannot be written into a URL; it
// keeps k and the options.
import { readOptions, type SearchOptions, writeOptions } from './search-options.ts';

export type UrlQuery = { kind: 'text'; q: string } | { kind: 'similar'; id: string } | { kind: 'none' };

export const K_MIN = 1;
export const K_MAX = 20;

export function clampK(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : Number.parseFloat(String(value ?? ''));
  if (!Number.isFinite(n)) return fallback;
  return Math.min(K_MAX, Math.max(K_MIN, Math.round(n)));
}

export interface UrlState {
  query: UrlQuery;
  k: number;
  options: SearchOptions;
}

export function readUrl(search: string, defaultK: number): UrlState {
  const p = new URLSearchParams(search);
  const k = p.has('k') ? clampK(p.get('k'), defaultK) : defaultK;
  const options = readOptions(p);
  const q = p.get('q')?.trim();
  if (q) return { query: { kind: 'text', q }, k, options };
  const id = p.get('similar')?.trim();
  if (id) return { query: { kind: 'similar', id }, k, options };
  return { query: { kind: 'none' }, k, options };
}

export function writeUrl(query: UrlQuery, k: number, options: SearchOptions): string {
  const p = new URLSearchParams();
  if (query.kind === 'text') p.set('q', query.q);
  if (query.kind === 'similar') p.set('similar', query.id);
  p.set('k', String(k));
  writeOptions(p, options);
  return `?${p}`;
}
