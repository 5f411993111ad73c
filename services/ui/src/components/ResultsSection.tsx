// The results of the search: how many and how fast, the grid with more pages below it, and what went wrong or why
// there is nothing.
import type { Meta, SearchResult } from '../api.ts';
import type { Results } from '../use-search.ts';
import { LoadMore } from './LoadMore.tsx';
import { EmptyNotice, ErrorNotice } from './Notices.tsx';
import { GridSkeleton, ResultGrid } from './ResultGrid.tsx';

export interface ResultsSectionProps {
  results: Results;
  meta: Meta | null;
  k: number;
  onOpen(index: number): void;
  onRetry(): void;
  onMore(): void;
}

function timingTitle(t: SearchResult['serverTiming']): string | undefined {
  const parts = Object.entries(t).map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`);
  return parts.length ? `Server: ${parts.join(', ')}` : undefined;
}

export function ResultsSection({ results, meta, k, onOpen, onRetry, onMore }: ResultsSectionProps) {
  const { hits, phase, end, last } = results;
  const loading = phase.status === 'loading';
  const failed = phase.status === 'error' ? phase : null;
  return (
    <section className="results" aria-label="Search results" aria-busy={loading} data-searches={results.started}>
      <div className="status-line" role="status" aria-live="polite">
        {loading && <span className="spinner" aria-hidden="true" />}
        {loading && 'Searching…'}
        {!loading && last && phase.status !== 'idle' && failed?.during !== 'first' && (
          <span title={timingTitle(last.serverTiming)}>
            {hits.length} {hits.length === 1 ? 'result' : 'results'} in{' '}
            <span className="latency" data-testid="latency">
              {Math.round(last.latencyMs)} ms
            </span>
          </span>
        )}
      </div>
      {failed?.during === 'first' && <ErrorNotice error={failed.error} onRetry={onRetry} />}
      {phase.status === 'done' && hits.length === 0 && <EmptyNotice docCount={meta?.doc_count ?? null} />}
      {phase.status === 'idle' && meta && meta.doc_count === 0 && <EmptyNotice docCount={0} />}
      {loading && hits.length === 0 && <GridSkeleton count={k} />}
      {hits.length > 0 && failed?.during !== 'first' && (
        <>
          <ResultGrid hits={hits} stale={loading} onOpen={onOpen} />
          {failed?.during === 'more' && <ErrorNotice error={failed.error} onRetry={onMore} />}
          {!loading && !failed && (
            <LoadMore
              shown={hits.length}
              end={end}
              atMax={hits.length >= (meta?.max_k ?? Number.POSITIVE_INFINITY)}
              loading={phase.status === 'more'}
              onMore={onMore}
            />
          )}
        </>
      )}
    </section>
  );
}
