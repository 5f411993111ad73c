// The filter chips' counts: GET /search/facets for the text being searched (its mode and cutoff, not its filters, so
// every chip stays on offer while others are on).
import { useEffect, useState } from 'react';
import { type Facets, fetchFacets } from './api.ts';
import type { Query } from './find-page.ts';
import type { SearchOptions } from './search-options.ts';
import { asApiError } from './use-search.ts';

export function useFacets(query: Query | undefined, mode: SearchOptions['mode'], minScore: number | undefined) {
  const [facets, setFacets] = useState<Facets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = query?.kind === 'text' ? query.q : null;

  useEffect(() => {
    setFacets(null);
    setError(null);
    if (q === null) return;
    const ctl = new AbortController();
    fetchFacets(q, mode, { min_score: minScore }, ctl.signal).then(setFacets, (err: unknown) => {
      if (ctl.signal.aborted) return;
      const e = asApiError(err);
      setError(`${e.message} ${e.hint}`);
    });
    return () => ctl.abort();
  }, [q, mode, minScore]);

  return { facets, error };
}
