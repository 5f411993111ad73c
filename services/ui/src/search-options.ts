// How a search is narrowed, ordered and matched, besides what it looks for: the page's controls, kept in the URL.
// Only values that differ from the defaults are written, so a plain search keeps a plain link (?q=red&k=8).
import type { Mode, RefineParams, Sort } from '@image-search/api-contract';

export type Filters = Pick<
  RefineParams,
  'host' | 'format' | 'year' | 'folder' | 'taken_from' | 'taken_to' | 'added_from' | 'added_to'
>;

export interface SearchOptions {
  mode: Mode;
  sort: Sort;
  /** "Only strong matches": min_score from /meta's strong_match_score. */
  strong: boolean;
  /** Plus/minus terms, e.g. "+night -people" (see refine-terms.ts). */
  refine: string;
  filters: Filters;
}

export const DEFAULT_OPTIONS: SearchOptions = {
  mode: 'vector',
  sort: 'relevance',
  strong: false,
  refine: '',
  filters: {},
};

export const MODE_LABELS: Record<Mode, string> = {
  vector: 'Picture content',
  keyword: 'Words (file name, keywords)',
  hybrid: 'Both',
};

export const SORT_LABELS: Record<Sort, string> = { relevance: 'Best match', newest: 'Newest', oldest: 'Oldest' };

const LIST_FILTERS = ['host', 'format', 'year'] as const;
const TEXT_FILTERS = ['folder', 'taken_from', 'taken_to', 'added_from', 'added_to'] as const;

const oneOf = <T extends string>(labels: Record<T, string>, v: string | null, fallback: T): T =>
  v !== null && Object.hasOwn(labels, v) ? (v as T) : fallback;

export function readOptions(p: URLSearchParams): SearchOptions {
  const filters: Filters = {};
  for (const name of LIST_FILTERS) {
    const values = (p.get(name) ?? '').split(',').filter(Boolean);
    // Unknown formats and years go to the API as they are: its 400 names the parameter and what is allowed.
    if (values.length) filters[name] = values as Filters['format'];
  }
  for (const name of TEXT_FILTERS) {
    const v = p.get(name)?.trim();
    if (v) filters[name] = v;
  }
  return {
    mode: oneOf(MODE_LABELS, p.get('mode'), DEFAULT_OPTIONS.mode),
    sort: oneOf(SORT_LABELS, p.get('sort'), DEFAULT_OPTIONS.sort),
    strong: p.get('strong') === '1',
    refine: p.get('refine')?.trim() ?? '',
    filters,
  };
}

export function writeOptions(p: URLSearchParams, o: SearchOptions): void {
  if (o.mode !== DEFAULT_OPTIONS.mode) p.set('mode', o.mode);
  if (o.sort !== DEFAULT_OPTIONS.sort) p.set('sort', o.sort);
  if (o.strong) p.set('strong', '1');
  if (o.refine.trim()) p.set('refine', o.refine.trim());
  for (const name of LIST_FILTERS) if (o.filters[name]?.length) p.set(name, o.filters[name].join(','));
  for (const name of TEXT_FILTERS) if (o.filters[name]) p.set(name, o.filters[name]);
}

/** Turns one value of a list filter (a host, a format, a year) on or off. */
export function toggleIn<T extends string>(list: T[] | undefined, value: T): T[] | undefined {
  const next = list?.includes(value) ? list.filter((v) => v !== value) : [...(list ?? []), value];
  return next.length ? next : undefined;
}
