// The collapsible "Runtime info" panel: what model, index and cluster answer the searches.
import type { Meta } from '../api.ts';

export interface RuntimeInfoProps {
  meta: Meta | null;
  error: string | null;
  onOpen(): void;
}

function show(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number') return v.toLocaleString('en-US');
  return String(v);
}

export function RuntimeInfo({ meta, error, onOpen }: RuntimeInfoProps) {
  const rows: Array<[string, unknown]> = meta
    ? [
        ['Model', meta.model_name],
        ['Dimension', meta.vector_dim],
        ['Device', meta.provider && meta.provider !== meta.device ? `${meta.device} (${meta.provider})` : meta.device],
        ['Index', meta.concrete_index ? `${meta.es_index} → ${meta.concrete_index}` : meta.es_index],
        ['Documents', meta.doc_count],
        ['Elasticsearch', meta.es_version],
        ['Cluster', meta.cluster_status ? `${meta.cluster ?? '—'} (${meta.cluster_status})` : meta.cluster],
        ['HNSW m', meta.hnsw_m],
        ['HNSW ef', meta.hnsw_ef],
        ['Model folder', meta.model_dir],
      ]
    : [];
  return (
    <details
      className="runtime"
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open) onOpen();
      }}
    >
      <summary>Runtime info</summary>
      {error && <p className="runtime-error">{error}</p>}
      {meta && (
        <dl className="runtime-list">
          {rows.map(([k, v]) => (
            <div key={k} className="runtime-row">
              <dt>{k}</dt>
              <dd>{show(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {!meta && !error && <p>Loading…</p>}
    </details>
  );
}
