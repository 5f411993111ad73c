// What hybrid search reads: the kNN and the BM25 ranking windows in one _msearch, each hit only its path and date from
// doc values, then the stored documents of the one page shown. A stored document holds its vector in _source, so
// reading it, even for its _id, costs far more than the ranking itself; the path names a picture just as well (each
// document, addressed by content, has one path).
import type { Client } from '@elastic/elasticsearch';
import {
  hitsOf,
  type KeywordQuery,
  KNN_FILTER_PATH,
  type KnnQuery,
  type KnnResponse,
  keywordQueryJson,
  knnJson,
  msearchCheck,
  type SearchHit,
  send,
} from './query.ts';
import type { JsonRequest, SearchConnection } from './search-connection.ts';

/** A picture in a ranking window: its path, its score in that ranking and its date (taken, else added). */
export interface RankedPath {
  path: string;
  score: number;
  datedAt?: string;
}

/** The top `size` of each ranking; how deep a hybrid page can go. */
export interface RankingWindows {
  knn: KnnQuery;
  keyword: KeywordQuery;
  size: number;
}

const WINDOW_FIELDS = `"stored_fields":"_none_","docvalue_fields":["path","dated_at"]`;

/** Both windows as one _msearch request (newline-delimited JSON: an empty header, then the search, for each). */
export function rankingWindowsRequest(alias: string, w: RankingWindows): JsonRequest & { body: string } {
  const size = Math.max(1, Math.floor(w.size));
  const searches = [
    `{"knn":${knnJson(w.knn, size)},"size":${size},${WINDOW_FIELDS}}`,
    `{"query":${keywordQueryJson(w.keyword)},"size":${size},${WINDOW_FIELDS}}`,
  ];
  return {
    method: 'POST',
    path:
      `/${encodeURIComponent(alias)}/_msearch?filter_path=` +
      'responses.hits.hits._score,responses.hits.hits.fields,responses.error,responses.status',
    body: searches.map((s) => `{}\n${s}\n`).join(''),
  };
}

interface WindowsResponse {
  responses?: Array<{
    hits?: { hits?: Array<{ _score: number | null; fields?: { path?: string[]; dated_at?: string[] } }> };
    error?: { type?: string };
    status?: number;
  }>;
}

/** [the kNN window, the BM25 window], best first; both [] when nothing is indexed yet. */
export async function rankingWindows(
  es: Client | SearchConnection,
  alias: string,
  w: RankingWindows,
): Promise<[RankedPath[], RankedPath[]]> {
  const req = rankingWindowsRequest(alias, w);
  const res = await send<WindowsResponse>(es, 'hybrid search', req, msearchCheck(req));
  const ranked = (i: number): RankedPath[] =>
    (res?.responses?.[i]?.hits?.hits ?? []).map((h) => ({
      path: h.fields?.path?.[0] ?? '',
      score: h._score ?? 0,
      datedAt: h.fields?.dated_at?.[0],
    }));
  return [ranked(0), ranked(1)];
}

/** The stored documents (without vectors) of the pictures at `paths`, by path; paths not indexed are left out. */
export async function docsByPath(
  es: Client | SearchConnection,
  alias: string,
  paths: string[],
): Promise<Map<string, SearchHit>> {
  if (paths.length === 0) return new Map();
  const res = await send<KnnResponse>(es, 'documents by path', {
    method: 'POST',
    path: `/${encodeURIComponent(alias)}/_search?filter_path=${KNN_FILTER_PATH}`,
    body: JSON.stringify({ query: { terms: { path: paths } }, size: paths.length, _source: { excludes: ['vector'] } }),
  });
  return new Map(hitsOf(res).map((h) => [h.doc.path, h]));
}
