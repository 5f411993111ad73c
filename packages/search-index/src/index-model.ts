// Which model built an index, read back from its mapping _meta: the API answers a query with the model of the index
// it searches, never another one. And how far an index being filled for a new model has come.
import type { Client } from '@elastic/elasticsearch';
import { call } from './errors.ts';
import { aliasTargets } from './lifecycle.ts';
import type { IndexMeta, ModelSource } from './mapping.ts';

export interface IndexModel {
  /** The concrete index. */
  index: string;
  name: string;
  pretrained: string;
  dims: number;
  /** Where the embedder found the export, and its hash; null for indices made before these were recorded. */
  dir: string | null;
  exportHash: string | null;
}

export interface Filling {
  model: IndexModel;
  /** Pictures in the index being filled, and in the folder at the embedder's last look. */
  done: number;
  total: number;
}

/** How long a filling index counts as being filled after the embedder last wrote its progress. */
const FILLING_FRESH_MS = 120_000;

/** The model recorded in an index's _meta, or null when the index is not one of ours. */
export function indexModelFrom(index: string, meta: Partial<IndexMeta> | undefined): IndexModel | null {
  if (!meta?.model || !meta.dims) return null;
  // Older indices have only 'name/pretrained'; a name may hold a '/' (hf-hub:org/model), a pretrained tag does not.
  const cut = meta.model.lastIndexOf('/');
  return {
    index,
    name: meta.model_name ?? (cut < 0 ? meta.model : meta.model.slice(0, cut)),
    pretrained: meta.pretrained ?? (cut < 0 ? '' : meta.model.slice(cut + 1)),
    dims: meta.dims,
    dir: meta.model_dir ?? null,
    exportHash: meta.export_hash ?? null,
  };
}

async function metaOf(client: Client, index: string): Promise<Partial<IndexMeta> | undefined> {
  const res = await call('get mapping', () => client.indices.getMapping({ index }));
  return res[index]?.mappings?._meta as Partial<IndexMeta> | undefined;
}

/** The index the alias points at (or the concrete index named so) with its model; null when there is none yet. */
export async function servingIndex(client: Client, alias: string): Promise<IndexModel | null> {
  const [target] = await aliasTargets(client, alias);
  const index = target ?? ((await call('index exists', () => client.indices.exists({ index: alias }))) ? alias : null);
  return index ? indexModelFrom(index, await metaOf(client, index)) : null;
}

/** _meta replaces as a whole: read, merge, write. */
async function mergeMeta(client: Client, index: string, patch: Partial<IndexMeta>): Promise<void> {
  const meta = (await metaOf(client, index)) ?? {};
  await call('put mapping', () =>
    client.indices.putMapping({ index, _meta: { ...meta, ...patch } as Record<string, unknown> }),
  );
}

/** Records the export behind an index made before exports were recorded (nothing to do for newer ones). */
export async function recordModelSource(client: Client, index: string, source: ModelSource): Promise<void> {
  const meta = await metaOf(client, index);
  if (meta?.model_dir && meta.export_hash) return;
  await mergeMeta(client, index, {
    model_name: source.name,
    pretrained: source.pretrained,
    model_dir: source.dir,
    export_hash: source.exportHash,
  });
}

/** Called by an embedder filling `index` while the alias serves another one: what the API shows as progress. */
export async function recordFilling(client: Client, index: string, total: number): Promise<void> {
  const { count } = await call('count', () => client.count({ index }));
  await mergeMeta(client, index, { filling: { done: count, total, at: new Date().toISOString() } });
}

/**
 * The index an embedder is filling for another model than the one serving `alias` (the newest, when several), with
 * its live count; null when none has reported progress lately (an abandoned one does not count).
 */
export async function fillingIndex(client: Client, alias: string, serving: string | null): Promise<Filling | null> {
  const all = await call('get mapping', () =>
    client.indices.getMapping({ index: `${alias}-*`, allow_no_indices: true, ignore_unavailable: true }),
  );
  let best: { index: string; meta: Partial<IndexMeta> } | null = null;
  for (const [index, { mappings }] of Object.entries(all)) {
    const meta = mappings?._meta as Partial<IndexMeta> | undefined;
    if (index === serving || !meta?.filling) continue;
    if (Date.now() - Date.parse(meta.filling.at) > FILLING_FRESH_MS) continue;
    if (!best || meta.filling.at > (best.meta.filling?.at ?? '')) best = { index, meta };
  }
  const model = best && indexModelFrom(best.index, best.meta);
  if (!best || !model) return null;
  const { count } = await call('count', () => client.count({ index: best.index }));
  return { model, done: count, total: Math.max(count, best.meta.filling?.total ?? 0) };
}
