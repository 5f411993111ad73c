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

/** How close to the bottom of the window the end of the grid may come before the next page is fetched. */
const AHEAD_PX = 300;

export function LoadMore({ shown, end, atMax, loading, onMore }: LoadMoreProps) {
  const sentinel = useRef<HTMLDivElement>(null);

  // Only once the page has been scrolled, so a first page that leaves the end in view fetches nothing unasked; checked
  // again after each page (loading goes on and off), so a page that leaves the end in view fetches the next.
  useEffect(() => {
    if (end || loading) return;
    const check = () => {
      const el = sentinel.current;
      if (el && window.scrollY > 0 && el.getBoundingClientRect().top < window.innerHeight + AHEAD_PX) onMore();
    };
    check();
    window.addEventListener('scroll', check, { passive: true });
    return () => window.removeEventListener('scroll', check);
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
