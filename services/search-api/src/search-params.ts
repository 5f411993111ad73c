// A search's page, order and filters as the API's parameters give them (see api-contract), as search-index takes them.
import type { RefineParams } from '@image-search/api-contract';
import type { PageQuery, SearchFilters, SortOrder } from '@image-search/search-index';

export function filtersOf(p: RefineParams): SearchFilters {
  return {
    takenFrom: p.taken_from,
    takenTo: p.taken_to,
    addedFrom: p.added_from,
    addedTo: p.added_to,
    hosts: p.host,
    folder: p.folder,
    formats: p.format,
    years: p.year?.map(Number),
    orientation: p.orientation,
    minWidth: p.min_width,
    minHeight: p.min_height,
  };
}

/** The page, order and filters of a search; date order sorts the best `maxK` (see PageQuery.window). */
export function pageQueryOf(p: RefineParams & { k: number }, maxK: number): PageQuery {
  return { k: p.k, from: p.from, sort: p.sort as SortOrder, window: maxK, filters: filtersOf(p) };
}
