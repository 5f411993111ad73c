// Facet counts per host, folder, format and year over the set a search ranks: the best `window` nearest pictures that
// pass the filters and the cutoff, and/or every picture matching the words. Each facet is counted with every active
// filter but its own, as faceted search does: with one host picked the other hosts keep their counts (to switch to or
// add), while the folders, formats and years narrow to that host.
import type { Client } from '@elastic/elasticsearch';
import type { SearchFilters } from './filters.ts';
import { type KnnQuery, keywordQueryJson, knnJson, msearchCheck, type PageQuery, send } from './query.ts';
import type { JsonRequest, SearchConnection } from './search-connection.ts';

/** The buckets asked for per facet (the most frequent first). */
export const FACET_SIZE = 20;

export const FACET_NAMES = ['host', 'folder', 'format', 'year'] as const;
export type FacetName = (typeof FACET_NAMES)[number];

export interface FacetBucket {
  value: string;
  count: number;
}

export type Facets = Record<FacetName, FacetBucket[]>;

/** The filter a facet's values turn on. */
const OWN_FILTER = { host: 'hosts', folder: 'folder', format: 'formats', year: 'years' } as const satisfies Record<
  FacetName,
  keyof SearchFilters
>;

const terms = (field: string) => ({ terms: { field, size: FACET_SIZE } });
const AGGS: Record<FacetName, unknown> = {
  host: terms('source_host'),
  folder: terms('folder'),
  format: terms('format'),
  year: { date_histogram: { field: 'dated_at', calendar_interval: 'year', format: 'yyyy', min_doc_count: 1 } },
};

export interface FacetQuery extends Pick<PageQuery, 'filters' | 'excludeIds'> {
  /** The nearest pictures: the best `window` passing the filters and the cutoff… */
  knn?: Omit<KnnQuery, keyof PageQuery>;
  /** …and/or every picture matching these words (both sets together in hybrid search). */
  text?: string;
  window: number;
}

/** One search of a facet request: the facets it counts and the filter it leaves out (none: every filter applies). */
export interface FacetSearch {
  facets: FacetName[];
  without?: keyof SearchFilters;
}

const isOn = (v: SearchFilters[keyof SearchFilters]) => (Array.isArray(v) ? v.length > 0 : Boolean(v));

/** The facets whose own filter is off share one search with every filter; each other facet has its own. */
export function facetSearches(filters: SearchFilters = {}): FacetSearch[] {
  const own = FACET_NAMES.filter((name) => isOn(filters[OWN_FILTER[name]]));
  const shared = FACET_NAMES.filter((name) => !own.includes(name));
  return [
    ...(shared.length > 0 ? [{ facets: shared }] : []),
    ...own.map((name) => ({ facets: [name], without: OWN_FILTER[name] })),
  ];
}

function searchJson(q: FacetQuery, s: FacetSearch): string {
  const filters = { ...q.filters };
  if (s.without) delete filters[s.without];
  const page = { k: q.window, filters, excludeIds: q.excludeIds };
  const aggs = Object.fromEntries(s.facets.map((name) => [name, AGGS[name]]));
  const parts = [`"size":0,"aggs":${JSON.stringify(aggs)}`];
  if (q.knn) parts.push(`"knn":${knnJson({ ...q.knn, ...page }, q.window)}`);
  if (q.text !== undefined) parts.push(`"query":${keywordQueryJson({ ...page, text: q.text })}`);
  return `{${parts.join(',')}}`;
}

/** The counts as one _msearch request (an empty header, then the search, for each of facetSearches). */
export function facetsRequest(alias: string, q: FacetQuery): JsonRequest & { body: string } {
  return {
    method: 'POST',
    path: `/${encodeURIComponent(alias)}/_msearch?filter_path=responses.aggregations,responses.error,responses.status`,
    body: facetSearches(q.filters)
      .map((s) => `{}\n${searchJson(q, s)}\n`)
      .join(''),
  };
}

type Buckets = { buckets: Array<{ key: string | number; key_as_string?: string; doc_count: number }> };

interface FacetsResponse {
  responses?: Array<{ aggregations?: Partial<Record<FacetName, Buckets>>; error?: unknown; status?: number }>;
}

/** The counts of each facet, the most frequent first; all empty when nothing is indexed yet. */
export async function facetCounts(es: Client | SearchConnection, alias: string, q: FacetQuery): Promise<Facets> {
  const req = facetsRequest(alias, q);
  const res = await send<FacetsResponse>(es, 'facets', req, msearchCheck(req));
  const facets: Facets = { host: [], folder: [], format: [], year: [] };
  facetSearches(q.filters).forEach((s, i) => {
    for (const name of s.facets) {
      facets[name] = (res?.responses?.[i]?.aggregations?.[name]?.buckets ?? []).map((b) => ({
        value: b.key_as_string ?? String(b.key),
        count: b.doc_count,
      }));
    }
  });
  return facets;
}
