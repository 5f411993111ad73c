// The search page: what is searched and how (kept in the URL), and the calls that start searches; the hooks fetch and
// the pieces under components/ draw.
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchMeta, type Hit, hitName, type Meta, thumbnailSrc } from './api.ts';
import { dateFieldOf } from './components/DateRange.tsx';
import { FilterChips } from './components/FilterChips.tsx';
import { Lightbox } from './components/Lightbox.tsx';
import { QueueProgress, ReindexingBanner, SyntheticBanner } from './components/Notices.tsx';
import { QueryPicture } from './components/QueryPicture.tsx';
import { RefineField } from './components/RefineField.tsx';
import { ResultsSection } from './components/ResultsSection.tsx';
import { RuntimeInfo } from './components/RuntimeInfo.tsx';
import { SearchControls } from './components/SearchControls.tsx';
import { SearchForm } from './components/SearchForm.tsx';
import { type Query, refines } from './find-page.ts';
import { usePictureInput } from './picture-input.ts';
import type { SearchOptions } from './search-options.ts';
import { clampK, readUrl, type UrlQuery, writeUrl } from './url-state.ts';
import { asApiError, useSearch } from './use-search.ts';

export interface AppProps {
  defaultK: number;
}

function toUrlQuery(q: Query): UrlQuery {
  if (q.kind === 'text') return { kind: 'text', q: q.q };
  if (q.kind === 'similar') return { kind: 'similar', id: q.id };
  return { kind: 'none' };
}

/** The cutoff a search sends: the model's strong-match score when asked for, never for keyword scores. */
function minScoreOf(o: SearchOptions, meta: Meta | null): number | undefined {
  return o.strong && o.mode !== 'keyword' && meta ? meta.strong_match_score : undefined;
}

export function App({ defaultK }: AppProps) {
  const initial = useRef(readUrl(window.location.search, defaultK)).current;
  const [text, setText] = useState(initial.query.kind === 'text' ? initial.query.q : '');
  const [k, setK] = useState(initial.k);
  const [options, setOptions] = useState(initial.options);
  const [refineText, setRefineText] = useState(initial.options.refine);
  const [dateField, setDateField] = useState(dateFieldOf(initial.options.filters));
  const [meta, setMeta] = useState<Meta | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const { results, start, more } = useSearch();
  const metaNow = useRef<Meta | null>(null);
  const preview = useRef<string | null>(null);
  // The lightbox picture that asked for the next page: it steps on once that page is in.
  const stepAfterMore = useRef<number | null>(null);

  const loadMeta = useCallback(async () => {
    try {
      metaNow.current = await fetchMeta();
      setMeta(metaNow.current);
      setMetaError(null);
    } catch (err) {
      const e = asApiError(err);
      setMetaError(`${e.message} ${e.hint}`);
    }
  }, []);

  const run = useCallback(
    (q: Query, kk: number, o: SearchOptions, history: 'push' | 'replace' | 'none') => {
      if (q.kind !== 'image' && preview.current) {
        URL.revokeObjectURL(preview.current);
        preview.current = null;
      }
      setOpen(null);
      stepAfterMore.current = null;
      if (history !== 'none') {
        const url = writeUrl(toUrlQuery(q), kk, o) + window.location.hash;
        if (history === 'push') window.history.pushState(null, '', url);
        else window.history.replaceState(null, '', url);
      }
      // Without /meta the depth is unknown: pages go on until one comes back short (or the API says how deep).
      const maxK = metaNow.current?.max_k ?? Number.MAX_SAFE_INTEGER;
      start({ query: q, options: o, k: kk, minScore: minScoreOf(o, metaNow.current), maxK });
    },
    [start],
  );

  const query = results.search?.query;

  /** New options apply to the search on the page at once. */
  const applyOptions = useCallback(
    (next: SearchOptions) => {
      setOptions(next);
      if (query) run(query, k, next, query.kind === 'image' ? 'replace' : 'push');
    },
    [query, k, run],
  );

  const searchPicture = useCallback(
    (file: File) => {
      if (preview.current) URL.revokeObjectURL(preview.current);
      preview.current = URL.createObjectURL(file);
      run({ kind: 'image', file, preview: preview.current }, k, options, 'replace');
    },
    [run, k, options],
  );

  const dragging = usePictureInput(searchPicture);

  useEffect(() => {
    // /meta first: the strong-match score and the page depth come from it.
    void loadMeta().then(() => {
      if (initial.query.kind !== 'none') run(initial.query, initial.k, initial.options, 'none');
    });
    const onPop = () => {
      const u = readUrl(window.location.search, defaultK);
      setK(u.k);
      setOptions(u.options);
      setRefineText(u.options.refine);
      setDateField(dateFieldOf(u.options.filters));
      if (u.query.kind === 'text') setText(u.query.q);
      if (u.query.kind !== 'none') run(u.query, u.k, u.options, 'none');
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [initial, defaultK, loadMeta, run]);

  const { hits, phase, end } = results;
  // An empty answer usually means an empty index: fetch the count so the message can say how far it got.
  useEffect(() => {
    if (phase.status === 'done' && hits.length === 0) void loadMeta();
  }, [phase.status, hits.length, loadMeta]);

  const pastEnd = useCallback(() => {
    stepAfterMore.current = open;
    more();
  }, [open, more]);
  useEffect(() => {
    const from = stepAfterMore.current;
    if (from !== null && hits.length > from + 1) {
      stepAfterMore.current = null;
      setOpen(from + 1);
    }
  }, [hits.length]);

  const moreLikeThis = useCallback(
    (hit: Hit) =>
      run({ kind: 'similar', id: hit.id, name: hitName(hit), thumb: thumbnailSrc(hit) }, k, options, 'push'),
    [run, k, options],
  );

  const refining = query ? refines(query, options) : refineText.trim() !== '';

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
          busy={phase.status === 'loading'}
          onTextChange={setText}
          onKChange={(v) => setK(clampK(v, defaultK))}
          onSearch={(q, kk) => {
            const next = { ...options, refine: refineText.trim() };
            setOptions(next);
            run({ kind: 'text', q }, kk, next, 'push');
          }}
          onPicture={searchPicture}
        />
        <RefineField
          value={refineText}
          disabled={query?.kind === 'image'}
          onChange={setRefineText}
          onApply={(refine) => applyOptions({ ...options, refine })}
        />
        <SearchControls
          options={options}
          refining={refining}
          strongScore={meta?.strong_match_score ?? null}
          dateField={dateField}
          onDateFieldChange={setDateField}
          onChange={applyOptions}
        />
        <FilterChips
          facets={results.facets}
          filters={options.filters}
          onChange={(filters) => applyOptions({ ...options, filters })}
        />
        {query && query.kind !== 'text' && <QueryPicture query={query} />}
        <ResultsSection
          results={results}
          meta={meta}
          k={k}
          onOpen={setOpen}
          onRetry={() => query && run(query, k, options, 'none')}
          onMore={more}
        />
        <Lightbox
          hits={hits}
          index={open}
          onIndexChange={setOpen}
          onMoreLikeThis={moreLikeThis}
          onPastEnd={end ? undefined : pastEnd}
        />
      </main>
      <footer>
        <RuntimeInfo meta={meta} error={metaError} onOpen={loadMeta} />
      </footer>
    </>
  );
}
