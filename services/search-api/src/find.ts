// Finding pictures for a search: by vector (kNN), by keyword (BM25) or both fused by reciprocal rank, filtered, cut off,
// ordered and paged alike; and the facet counts over the same set.
import {
  docsByPath,
  type Facets,
  facetCounts,
  type KnnQuery,
  keywordSearch,
  knnSearch,
  type PageQuery,
  type RankedPath,
  rankingWindows,
  reciprocalRankFusion,
  type SearchConnection,
  type SearchHit,
} from '@image-search/search-index';

export type Mode = 'vector' | 'keyword' | 'hybrid';

export interface FindTarget {
  search: SearchConnection;
  alias: string;
  /** HNSW candidates: the same for every page, so a deeper page continues the same ranking. */
  numCandidates: number;
  /** The deepest a page may reach, and the set hybrid fusion and date order work on. */
  maxK: number;
  /** RESCORE_OVERSAMPLE for a quantised VECTOR_INDEX_TYPE; absent for float vectors. */
  rescoreOversample?: number;
}

export interface FindQuery {
  page: PageQuery;
  mode: Mode;
  vector?: ArrayLike<number>;
  text?: string;
  minScore?: number;
}

/**
 * Counts per host, folder, format and year over what the search ranks: the best maxK nearest pictures passing the
 * filters and the cutoff, and/or every keyword match; each facet without its own filter (see search-index's facets).
 */
export function findFacets(t: FindTarget, q: FindQuery): Promise<Facets> {
  return facetCounts(t.search, t.alias, {
    filters: q.page.filters,
    excludeIds: q.page.excludeIds,
    window: t.maxK,
    knn:
      q.mode === 'keyword'
        ? undefined
        : {
            vector: q.vector ?? [],
            numCandidates: t.numCandidates,
            minScore: q.minScore,
            rescoreOversample: t.rescoreOversample,
          },
    text: q.mode === 'vector' ? undefined : (q.text ?? ''),
  });
}

export async function findPictures(t: FindTarget, q: FindQuery): Promise<SearchHit[]> {
  const knn = (page: PageQuery): KnnQuery => ({
    ...page,
    vector: q.vector ?? [],
    numCandidates: t.numCandidates,
    minScore: q.minScore,
    rescoreOversample: t.rescoreOversample,
  });
  if (q.mode === 'vector') return knnSearch(t.search, t.alias, knn(q.page));
  const keyword = (page: PageQuery) => keywordSearch(t.search, t.alias, { ...page, text: q.text ?? '' });
  if (q.mode === 'keyword') return keyword(q.page);
  // Hybrid: both rankings of the best maxK (paths and dates only, in one request), fused here; every page is cut from
  // that one fused list, and only the page's documents are read.
  const whole: PageQuery = { ...q.page, from: 0, k: t.maxK, sort: 'relevance' };
  const windows = await rankingWindows(t.search, t.alias, {
    knn: knn(whole),
    keyword: { ...whole, text: q.text ?? '' },
    size: t.maxK,
  });
  const fused = inDateOrder(
    reciprocalRankFusion(windows, (h) => h.path),
    q.page.sort,
  );
  const from = q.page.from ?? 0;
  const page = fused.slice(from, from + q.page.k);
  const docs = await docsByPath(
    t.search,
    t.alias,
    page.map((h) => h.path),
  );
  return page.flatMap((h) => {
    const hit = docs.get(h.path);
    return hit ? [{ ...hit, score: h.score }] : [];
  });
}

/** Newest or oldest first by date taken (else added), undated last, the path breaking ties (as the index sorts). */
function inDateOrder(hits: RankedPath[], sort: PageQuery['sort']): RankedPath[] {
  if (!sort || sort === 'relevance') return hits;
  const sign = sort === 'newest' ? -1 : 1;
  const time = (h: RankedPath) => (h.datedAt ? Date.parse(h.datedAt) : Number.NaN);
  return [...hits].sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (Number.isNaN(ta) !== Number.isNaN(tb)) return Number.isNaN(ta) ? 1 : -1;
    if (ta !== tb && !Number.isNaN(ta)) return sign * (ta - tb);
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}
