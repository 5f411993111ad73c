// The page's messages: the synthetic-model warning, a model switch under way, errors that say what to do, and the
// empty index.
import type { ApiError, Meta } from '../api.ts';

export function SyntheticBanner({ meta }: { meta: Meta | null }) {
  if (!meta?.synthetic) return null;
  return (
    <div className="banner warning" role="alert">
      <strong>Test model in use.</strong> The search API runs a synthetic model
      {meta.model_name ? ` (${meta.model_name})` : ''}: it matches colours, not meaning. Point MODEL_DIR at a real
      OpenCLIP export for real results.
    </div>
  );
}

export function ReindexingBanner({ meta }: { meta: Meta | null }) {
  const r = meta?.reindexing;
  if (!r) return null;
  return (
    <div className="banner" role="status">
      <strong>
        Re-indexing for {r.model}: {r.done.toLocaleString('en-US')} of {r.total.toLocaleString('en-US')}.
      </strong>{' '}
      Searches use {meta?.model_name ?? 'the current model'} until every picture is in the new index, then switch.
    </div>
  );
}

/** With a work queue: one line on ingestion across every embedder worker. */
export function QueueProgress({ meta }: { meta: Meta | null }) {
  const q = meta?.work_queue;
  if (!meta || !q) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    <p className="queue-progress" role="status">
      {n(meta.doc_count)} indexed · {n(q.queued)} queued · {n(q.failed)} failed
    </p>
  );
}

export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div className="notice error" role="alert">
      <p className="notice-title">{error.message}</p>
      <p>{error.hint}</p>
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyNotice({ docCount }: { docCount: number | null }) {
  if (!docCount) {
    return (
      <div className="notice" role="status">
        <p className="notice-title">
          Nothing indexed yet — {docCount ?? 0} {docCount === 1 ? 'picture' : 'pictures'} so far.
        </p>
        <p>
          The embedder adds pictures as the downloader fetches them ("pnpm downloader", "pnpm embedder"). Search again
          in a minute.
        </p>
      </div>
    );
  }
  return (
    <div className="notice" role="status">
      <p className="notice-title">No pictures matched.</p>
      <p>{docCount.toLocaleString('en-US')} pictures are indexed; try other words or another picture.</p>
    </div>
  );
}
