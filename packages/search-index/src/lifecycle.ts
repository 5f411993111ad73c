// Index lifecycle: one concrete index per model (and mapping), the ES_INDEX alias pointing at the one that serves.
// Nothing here deletes an index: a model change builds a new index beside the old one and moves the alias atomically.
import type { Client } from '@elastic/elasticsearch';
import { call, errorType, statusOf } from './errors.ts';
import { concreteIndexName, FACT_FIELDS, type IndexMeta, type IndexSpec, indexBody } from './mapping.ts';

/** The concrete indices the alias points at (normally one), or [] when the alias does not exist. */
export async function aliasTargets(client: Client, alias: string): Promise<string[]> {
  const exists = await call('alias exists', () => client.indices.existsAlias({ name: alias }));
  if (!exists) return [];
  const res = await call('get alias', () => client.indices.getAlias({ name: alias }));
  return Object.keys(res);
}

async function isConcreteIndex(client: Client, name: string): Promise<boolean> {
  const exists = await call('index exists', () => client.indices.exists({ index: name }));
  if (!exists) return false;
  return (await aliasTargets(client, name)).length === 0;
}

/**
 * Makes sure the index for this model and mapping exists (creating it with its mapping and _meta if not). On the very
 * first run, when the alias does not exist yet, points the alias at it at once; otherwise leaves the alias alone —
 * the caller promotes the new index only when it holds everything (see promoteIndex).
 */
export async function ensureModelIndex(
  client: Client,
  spec: IndexSpec,
): Promise<{ index: string; created: boolean; aliasPointsHere: boolean }> {
  const index = concreteIndexName(spec);
  let created = false;
  const exists = await call('index exists', () => client.indices.exists({ index }));
  if (!exists) {
    try {
      await call('create index', () =>
        client.indices.create({ index, ...indexBody(spec), wait_for_active_shards: 1 } as Parameters<
          Client['indices']['create']
        >[0]),
      );
      created = true;
    } catch (err) {
      // Another embedder created it between our check and our create: same name means same mapping, so use it.
      if (errorType(err) !== 'resource_already_exists_exception') throw err;
    }
  } else {
    // Replicas are the one setting that may change in place; fields added since the index was made are added to it.
    await call('update replicas', () =>
      client.indices.putSettings({ index, settings: { number_of_replicas: spec.replicas } }),
    );
    await call('add fields', () => client.indices.putMapping({ index, properties: FACT_FIELDS }));
  }

  let targets = await aliasTargets(client, spec.alias);
  if (targets.length === 0 && !(await isConcreteIndex(client, spec.alias))) {
    try {
      await call('add alias', () =>
        client.indices.updateAliases({ actions: [{ add: { index, alias: spec.alias, is_write_index: false } }] }),
      );
    } catch (err) {
      if (statusOf(err) !== 400) throw err;
    }
    targets = await aliasTargets(client, spec.alias);
  }
  return { index, created, aliasPointsHere: targets.length === 1 && targets[0] === index };
}

/** Moves the alias to `index` in one atomic request: searches see the old index or the new one, never both or none. */
export async function promoteIndex(client: Client, spec: IndexSpec, index: string): Promise<void> {
  if (await isConcreteIndex(client, spec.alias)) {
    throw new Error(
      `ES_INDEX=${spec.alias} is a concrete index, not an alias; it is left untouched. ` +
        `Rename or reindex it (or choose another ES_INDEX) so the alias can point at ${index}.`,
    );
  }
  const targets = await aliasTargets(client, spec.alias);
  if (targets.length === 1 && targets[0] === index) return;
  const actions: Array<Record<string, unknown>> = targets
    .filter((t) => t !== index)
    .map((t) => ({ remove: { index: t, alias: spec.alias } }));
  actions.push({ add: { index, alias: spec.alias } });
  await call('switch alias', () =>
    client.indices.updateAliases({ actions } as Parameters<Client['indices']['updateAliases']>[0]),
  );
}

export interface IndexInfo {
  concreteIndex: string | null;
  docCount: number;
  model: string | null;
  esVersion: string;
  clusterName: string;
  clusterStatus: string;
  hnswM: number | null;
  hnswEf: number | null;
  dims: number | null;
}

/** What the API's /meta shows: the cluster, and the index the alias points at with its model and HNSW settings. */
export async function indexInfo(client: Client, alias: string): Promise<IndexInfo> {
  const [info, health] = await Promise.all([
    call('info', () => client.info()),
    call('cluster health', () => client.cluster.health()),
  ]);
  const base: IndexInfo = {
    concreteIndex: null,
    docCount: 0,
    model: null,
    esVersion: info.version.number,
    clusterName: info.cluster_name,
    clusterStatus: String(health.status),
    hnswM: null,
    hnswEf: null,
    dims: null,
  };
  let targets = await aliasTargets(client, alias);
  if (targets.length === 0 && (await isConcreteIndex(client, alias))) targets = [alias];
  if (targets.length === 0) return base;
  const concrete = targets[0];
  const [count, mapping] = await Promise.all([
    call('count', () => client.count({ index: concrete })),
    call('get mapping', () => client.indices.getMapping({ index: concrete })),
  ]);
  const m = mapping[concrete]?.mappings;
  const meta = (m?._meta ?? {}) as Partial<IndexMeta>;
  const vector = m?.properties?.vector as
    | { dims?: number; index_options?: { m?: number; ef_construction?: number } }
    | undefined;
  return {
    ...base,
    concreteIndex: concrete,
    docCount: count.count,
    model: meta.model ?? null,
    hnswM: vector?.index_options?.m ?? meta.hnsw_m ?? null,
    hnswEf: vector?.index_options?.ef_construction ?? meta.hnsw_ef ?? null,
    dims: vector?.dims ?? meta.dims ?? null,
  };
}
