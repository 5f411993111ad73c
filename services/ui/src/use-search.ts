// The results of the current search and its further pages: a new search replaces them, "more" appends the next page
// (from = what is shown) until a page comes back short or MAX_K is reached. The first page brings the facet counts.
import { useCallback, useRef, useState } from 'react';
import { ApiError, type Facets, type Hit, type SearchResult } from './api.ts';
import { findPage, type Query } from './find-page.ts';
import type { SearchOptions } from './search-options.ts';

export type Phase =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'more' }
  | { status: 'done' }
  | { status: 'error'; error: ApiError; during: 'first' | 'more' };

export interface Search {
  query: Query;
  options: SearchOptions;
  k: number;
  minScore?: number;
  /** MAX_K from /meta: pages stop there. */
  maxK: number;
}

export interface Results {
  search: Search | null;
  hits: Hit[];
  /** The counts that came with the first page (null before it, or when it failed). */
  facets: Facets | null;
  phase: Phase;
  /** No further page: the last came back short, or MAX_K is reached. */
  end: boolean;
  last: SearchResult | null;
  /** Searches started, so a watcher (the browser test, the benchmark) can tell new results from old ones. */
  started: number;
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('other', (err as Error)?.message ?? String(err), 'Reload the page and try again.', 0);
}

const IDLE: Results = {
  search: null,
  hits: [],
  facets: null,
  phase: { status: 'idle' },
  end: false,
  last: null,
  started: 0,
};

export function useSearch() {
  const [results, setResults] = useState<Results>(IDLE);
  // The state as last set, for "more" called twice before a render (a scroll and a click).
  const latest = useRef<Results>(IDLE);
  const inflight = useRef<AbortController | null>(null);

  const update = useCallback((change: (r: Results) => Results) => {
    latest.current = change(latest.current);
    setResults(latest.current);
  }, []);

  const fetchPage = useCallback(
    async (search: Search, prior: Hit[]) => {
      inflight.current?.abort();
      const ctl = new AbortController();
      inflight.current = ctl;
      const from = prior.length;
      const k = Math.min(search.k, search.maxK - from);
      try {
        const page = await findPage({ ...search, k, from }, ctl.signal);
        if (ctl.signal.aborted) return;
        const hits = [...prior, ...page.hits];
        const end = page.hits.length < k || hits.length >= search.maxK;
        update((r) => ({
          ...r,
          hits,
          facets: from === 0 ? (page.facets ?? null) : r.facets,
          end,
          last: page,
          phase: { status: 'done' },
        }));
      } catch (err) {
        if (ctl.signal.aborted || (err as Error).name === 'AbortError') return;
        const during = from === 0 ? 'first' : 'more';
        update((r) => ({
          ...r,
          hits: prior,
          facets: from === 0 ? null : r.facets,
          phase: { status: 'error', error: asApiError(err), during },
        }));
      }
    },
    [update],
  );

  /** A new search: the results shown so far stay, dimmed, until its first page arrives. */
  const start = useCallback(
    (search: Search) => {
      update((r) => ({ ...r, search, end: false, phase: { status: 'loading' }, started: r.started + 1 }));
      void fetchPage(search, []);
    },
    [fetchPage, update],
  );

  const more = useCallback(() => {
    const r = latest.current;
    const failedMore = r.phase.status === 'error' && r.phase.during === 'more';
    if (!r.search || r.end || (r.phase.status !== 'done' && !failedMore)) return;
    update((cur) => ({ ...cur, phase: { status: 'more' } }));
    void fetchPage(r.search, r.hits);
  }, [fetchPage, update]);

  return { results, start, more };
}
