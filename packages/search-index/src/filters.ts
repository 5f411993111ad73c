// What a search may be narrowed to, as Elasticsearch filter clauses: the same clauses go into a kNN search's `filter`
// (applied while the graph is searched, so k pictures come back however selective they are), a keyword query's
// bool filter and the facet counts.
import type { Orientation } from './mapping.ts';

export interface SearchFilters {
  /** Dates as ISO 8601; a bare day (2024-05-06) covers that whole day at either end. */
  takenFrom?: string;
  takenTo?: string;
  addedFrom?: string;
  addedTo?: string;
  /** Any of these source hosts. */
  hosts?: string[];
  /** This folder (relative to the images root) and the folders under it. */
  folder?: string;
  /** Any of these formats (jpeg, png, webp, gif, tiff, avif). */
  formats?: string[];
  /** Any of these calendar years (UTC) of `dated_at` — taken, else added — the years the facet counts give. */
  years?: number[];
  orientation?: Orientation;
  minWidth?: number;
  minHeight?: number;
}

const BARE_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A bare day rounded to the day: from its first millisecond (gte) to its last (lte). */
const day = (v: string) => (BARE_DAY.test(v) ? `${v}||/d` : v);

function dateRange(field: string, from?: string, to?: string): Record<string, unknown>[] {
  if (from === undefined && to === undefined) return [];
  const range: Record<string, string> = {};
  if (from !== undefined) range.gte = day(from);
  if (to !== undefined) range.lte = day(to);
  return [{ range: { [field]: range } }];
}

export function filterClauses(f: SearchFilters): Record<string, unknown>[] {
  const clauses = [...dateRange('taken_at', f.takenFrom, f.takenTo), ...dateRange('added_at', f.addedFrom, f.addedTo)];
  if (f.hosts?.length) clauses.push({ terms: { source_host: f.hosts } });
  if (f.folder) {
    const folder = f.folder.replace(/^\/+|\/+$/g, '');
    clauses.push({
      bool: { should: [{ term: { folder } }, { prefix: { folder: `${folder}/` } }], minimum_should_match: 1 },
    });
  }
  if (f.formats?.length) clauses.push({ terms: { format: f.formats } });
  if (f.years?.length) {
    const years = f.years.map((y) => String(y).padStart(4, '0'));
    const should = years.flatMap((y) => dateRange('dated_at', `${y}-01-01`, `${y}-12-31`));
    clauses.push({ bool: { should, minimum_should_match: 1 } });
  }
  if (f.orientation) clauses.push({ term: { orientation: f.orientation } });
  if (f.minWidth !== undefined) clauses.push({ range: { width: { gte: f.minWidth } } });
  if (f.minHeight !== undefined) clauses.push({ range: { height: { gte: f.minHeight } } });
  return clauses;
}
