// More results as the end of the grid comes into view, a "Load more" button for the same, and the end of the results.
import { useEffect, useRef } from 'react';

export interface LoadMoreProps {
  shown: number;
  end: boolean;
  /** The end is MAX_K, not the last match. */
  atMax: boolean;
  loading: boolean;
  onMore(): void;
}

export function LoadMore({ shown, end, atMax, loading, onMore }: LoadMoreProps) {
  const sentinel = useRef<HTMLDivElement>(null);

  // Observed again after each page (loading goes on and off), so a page that leaves the end in view loads the next.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || end || loading || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) onMore();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [end, loading, onMore]);

  if (end) {
    return (
      <p className="end-of-results">
        {atMax
          ? `These are the best ${shown} pictures; narrow the search to see others.`
          : `All ${shown} ${shown === 1 ? 'picture' : 'pictures'} shown.`}
      </p>
    );
  }
  return (
    <div className="load-more">
      <div ref={sentinel} className="sentinel" />
      <button type="button" className="secondary" onClick={onMore} disabled={loading} aria-busy={loading}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
