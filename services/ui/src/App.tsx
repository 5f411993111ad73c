// The search page: state, URL and the calls to the API; the pieces under components/ only draw.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ApiError,
  fetchMeta,
  type Hit,
  hitName,
  type Meta,
  type SearchResult,
  searchImage,
  searchSimilar,
  searchText,
  thumbnailSrc,
} from './api.ts';
import { Lightbox } from './components/Lightbox.tsx';
import { EmptyNotice, ErrorNotice, QueueProgress, ReindexingBanner, SyntheticBanner } from './components/Notices.tsx';
import { GridSkeleton, ResultGrid } from './components/ResultGrid.tsx';
import { RuntimeInfo } from './components/RuntimeInfo.tsx';
import { SearchForm } from './components/SearchForm.tsx';
import { usePictureInput } from './picture-input.ts';
import { clampK, readUrl, type UrlQuery, writeUrl } from './url-state.ts';

export type Query =
  | { kind: 'text'; q: string }
  | { kind: 'similar'; id: string; name?: string; thumb?: string }
  | { kind: 'image'; file: File; preview: string };

type Phase = { status: 'idle' } | { status: 'loading' } | { status: 'done' } | { status: 'error'; error: ApiError };

export interface AppProps {
  defaultK: number;
}

function toUrlQuery(q: Query): UrlQuery {
  if (q.kind === 'text') return { kind: 'text', q: q.q };
  if (q.kind === 'similar') return { kind: 'similar', id: q.id };
  return { kind: 'none' };
}

function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('other', (err as Error)?.message ?? String(err), 'Reload the page and try again.', 0);
}

function timingTitle(t: SearchResult['serverTiming']): string | undefined {
  const parts = Object.entries(t).map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`);
  return parts.length ? `Server: ${parts.join(', ')}` : undefined;
}

export function App({ defaultK }: AppProps) {
  const initial = useRef(readUrl(window.location.search, defaultK)).current;
  const [text, setText] = useState(initial.query.kind === 'text' ? initial.query.q : '');
  const [k, setK] = useState(initial.k);
  const [query, setQuery] = useState<Query | null>(null);
  const [phase, setPhase] = useState<Phase>({ status: 'idle' });
  const [result, setResult] = useState<SearchResult | null>(null);
  const [meta, setMeta] = useState<Meta | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  // Counts searches started, so a watcher (the browser test, the benchmark) can tell new results from old ones.
  const [searches, setSearches] = useState(0);
  const inflight = useRef<AbortController | null>(null);
  const preview = useRef<string | null>(null);

  const loadMeta = useCallback(async () => {
    try {
      setMeta(await fetchMeta());
      setMetaError(null);
    } catch (err) {
      const e = asApiError(err);
      setMetaError(`${e.message} ${e.hint}`);
    }
  }, []);

  const run = useCallback(
    async (q: Query, kk: number, history: 'push' | 'replace' | 'none') => {
      inflight.current?.abort();
      const ctl = new AbortController();
      inflight.current = ctl;
      if (q.kind !== 'image' && preview.current) {
        URL.revokeObjectURL(preview.current);
        preview.current = null;
      }
      setQuery(q);
      setSearches((n) => n + 1);
      setOpen(null);
      setPhase({ status: 'loading' });
      if (history !== 'none') {
        const url = writeUrl(toUrlQuery(q), kk) + window.location.hash;
        if (history === 'push') window.history.pushState(null, '', url);
        else window.history.replaceState(null, '', url);
      }
      try {
        const r =
          q.kind === 'text'
            ? await searchText(q.q, kk, ctl.signal)
            : q.kind === 'similar'
              ? await searchSimilar(q.id, kk, ctl.signal)
              : await searchImage(q.file, kk, ctl.signal);
        if (ctl.signal.aborted) return;
        setResult(r);
        setPhase({ status: 'done' });
        // An empty answer usually means an empty index: fetch the count so the message can say how far it got.
        if (r.hits.length === 0) void loadMeta();
      } catch (err) {
        if (ctl.signal.aborted || (err as Error).name === 'AbortError') return;
        setResult(null);
        setPhase({ status: 'error', error: asApiError(err) });
      }
    },
    [loadMeta],
  );

  const searchPicture = useCallback(
    (file: File) => {
      if (preview.current) URL.revokeObjectURL(preview.current);
      preview.current = URL.createObjectURL(file);
      void run({ kind: 'image', file, preview: preview.current }, k, 'replace');
    },
    [run, k],
  );

  const dragging = usePictureInput(searchPicture);

  useEffect(() => {
    void loadMeta();
    if (initial.query.kind !== 'none') void run(initial.query, initial.k, 'none');
    const onPop = () => {
      const { query: uq, k: uk } = readUrl(window.location.search, defaultK);
      setK(uk);
      if (uq.kind === 'text') setText(uq.q);
      if (uq.kind !== 'none') void run(uq, uk, 'none');
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [initial, defaultK, loadMeta, run]);

  const moreLikeThis = useCallback(
    (hit: Hit) => {
      void run({ kind: 'similar', id: hit.id, name: hitName(hit), thumb: thumbnailSrc(hit) }, k, 'push');
    },
    [run, k],
  );

  const hits = result?.hits ?? [];
  const loading = phase.status === 'loading';

  return (
    <>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <p>Drop the picture to find ones like it</p>
        </div>
      )}
      <header className="page-header">
        <h1>Image search</h1>
        <p className="tagline">Describe a picture in words, or show one, and find the closest matches in the index.</p>
      </header>
      <SyntheticBanner meta={meta} />
      <ReindexingBanner meta={meta} />
      <QueueProgress meta={meta} />
      <main>
        <SearchForm
          text={text}
          k={k}
          busy={loading}
          onTextChange={setText}
          onKChange={(v) => setK(clampK(v, defaultK))}
          onSearch={(q, kk) => void run({ kind: 'text', q }, kk, 'push')}
          onPicture={searchPicture}
        />
        {query && query.kind !== 'text' && (
          <div className="query-picture">
            <img
              src={query.kind === 'image' ? query.preview : query.thumb}
              alt=""
              onError={(e) => {
                e.currentTarget.hidden = true;
              }}
            />
            <span>
              Pictures like{' '}
              <strong>
                {query.kind === 'image' ? query.file.name || 'the pasted picture' : (query.name ?? query.id)}
              </strong>
            </span>
          </div>
        )}
        <section className="results" aria-label="Search results" aria-busy={loading} data-searches={searches}>
          <div className="status-line" role="status" aria-live="polite">
            {loading && <span className="spinner" aria-hidden="true" />}
            {loading && 'Searching…'}
            {phase.status === 'done' && result && (
              <span title={timingTitle(result.serverTiming)}>
                {hits.length} {hits.length === 1 ? 'result' : 'results'} in{' '}
                <span className="latency" data-testid="latency">
                  {Math.round(result.latencyMs)} ms
                </span>
              </span>
            )}
          </div>
          {phase.status === 'error' && (
            <ErrorNotice error={phase.error} onRetry={query ? () => void run(query, k, 'none') : undefined} />
          )}
          {phase.status === 'done' && hits.length === 0 && <EmptyNotice docCount={meta?.doc_count ?? null} />}
          {phase.status === 'idle' && meta && meta.doc_count === 0 && <EmptyNotice docCount={0} />}
          {loading && hits.length === 0 && <GridSkeleton count={k} />}
          {hits.length > 0 && phase.status !== 'error' && <ResultGrid hits={hits} stale={loading} onOpen={setOpen} />}
        </section>
        <Lightbox hits={hits} index={open} onIndexChange={setOpen} onMoreLikeThis={moreLikeThis} />
      </main>
      <footer>
        <RuntimeInfo meta={meta} error={metaError} onOpen={loadMeta} />
      </footer>
    </>
  );
}
