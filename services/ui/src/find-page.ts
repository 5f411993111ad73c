// Which API call one page of a search is: text, "more like this" or a picture, or, with refine terms, the weighted
// combination of the search and its terms (POST /search/combine). The first page asks for the facet counts too, so a
// picture is uploaded once for both.
import { type PageParams, type SearchResult, searchCombine, searchImage, searchSimilar, searchText } from './api.ts';
import { refineParts } from './refine-terms.ts';
import type { SearchOptions } from './search-options.ts';

export type Query =
  | { kind: 'text'; q: string }
  | { kind: 'similar'; id: string; name?: string; thumb?: string }
  | { kind: 'image'; file: File; preview: string };

export interface PageRequest {
  query: Query;
  options: SearchOptions;
  k: number;
  from: number;
  /** min_score, when "only strong matches" is on. */
  minScore?: number;
}

/** Refine terms apply to text and "more like this"; a picture that is not indexed cannot be a part of a combination. */
export function refines(query: Query, options: SearchOptions): boolean {
  return query.kind !== 'image' && refineParts(options.refine).length > 0;
}

export function findPage(r: PageRequest, signal: AbortSignal): Promise<SearchResult> {
  const { query, options } = r;
  const params: PageParams = {
    k: r.k,
    from: r.from,
    sort: options.sort,
    min_score: r.minScore,
    facets: r.from === 0 || undefined,
    ...options.filters,
  };
  if (refines(query, options) && query.kind !== 'image') {
    const base = query.kind === 'text' ? { text: query.q } : { id: query.id };
    return searchCombine([base, ...refineParts(options.refine)], params, signal);
  }
  if (query.kind === 'text') return searchText(query.q, options.mode, params, signal);
  if (query.kind === 'similar') return searchSimilar(query.id, params, signal);
  return searchImage(query.file, params, signal);
}
