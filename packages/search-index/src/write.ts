// Writes in bulk, with an outcome per document, and reads which ids an index already holds, in batches.
import type { Client } from '@elastic/elasticsearch';
import pRetry from 'p-retry';
import { call } from './errors.ts';
import { type ImageDoc, toUnitVector } from './mapping.ts';

export type BulkOp =
  | { id: string; doc: ImageDoc }
  | { id: string; delete: true }
  /** Changes some fields of an existing document (e.g. its path, when the file it named was deleted). */
  | { id: string; update: Partial<Omit<ImageDoc, 'vector'>> };

export interface BulkResult {
  ok: number;
  failed: Array<{ id: string; status: number; reason: string }>;
}

export interface BulkOptions {
  /** 'wait_for' makes the writes visible to searches before returning (tests); default false. */
  refresh?: boolean | 'wait_for';
  /** Operations per _bulk request; larger inputs are split (default 500). */
  chunkSize?: number;
  /** How often items rejected with 429 (queue full) are retried (default 5). */
  retries?: number;
}

function toAction(op: BulkOp, index: string): unknown[] {
  if ('delete' in op) return [{ delete: { _index: index, _id: op.id } }];
  if ('update' in op) return [{ update: { _index: index, _id: op.id } }, { doc: op.update }];
  return [{ index: { _index: index, _id: op.id } }, { ...op.doc, vector: toUnitVector(op.doc.vector) }];
}

/**
 * One _bulk request per chunk of operations. Index operations overwrite by id, so repeating a write (after a crash or
 * a retry) never doubles a document. Deleting a document that is already gone counts as done. Items refused because
 * the cluster is busy (429) are retried with backoff; other item errors are returned, not thrown. A cluster that
 * cannot be reached throws EsUnavailableError: nothing is known to be written.
 */
export async function bulkWrite(
  client: Client,
  index: string,
  ops: BulkOp[],
  opts: BulkOptions = {},
): Promise<BulkResult> {
  const result: BulkResult = { ok: 0, failed: [] };
  const chunkSize = opts.chunkSize ?? 500;
  for (let start = 0; start < ops.length; start += chunkSize) {
    let pending = ops.slice(start, start + chunkSize);
    try {
      await pRetry(
        async () => {
          const chunk = pending;
          const res = await call('bulk', () =>
            client.bulk({
              operations: chunk.flatMap((op) => toAction(op, index)),
              refresh: opts.refresh ?? false,
            }),
          );
          const busy: BulkResult['failed'] = [];
          res.items.forEach((item, i) => {
            const outcome = item.index ?? item.delete ?? item.update ?? item.create;
            const status = outcome?.status ?? 0;
            const op = chunk[i];
            if (status >= 200 && status < 300) result.ok++;
            else if (status === 404 && 'delete' in op) result.ok++;
            else {
              const reason = outcome?.error
                ? `${outcome.error.type}: ${outcome.error.reason ?? ''}`
                : `status ${status}`;
              (status === 429 ? busy : result.failed).push({ id: op.id, status, reason });
            }
          });
          pending = chunk.filter((op) => busy.some((b) => b.id === op.id));
          if (busy.length > 0) throw new BusyItems(busy);
        },
        { retries: opts.retries ?? 5, minTimeout: 200, shouldRetry: ({ error }) => error instanceof BusyItems },
      );
    } catch (err) {
      if (!(err instanceof BusyItems)) throw err;
      result.failed.push(...err.items);
    }
  }
  return result;
}

/** Items the cluster refused because it was busy (429): tried again, and failed once the retries are spent. */
class BusyItems extends Error {
  constructor(readonly items: BulkResult['failed']) {
    super(`${items.length} bulk items refused with 429`);
    this.name = 'BusyItems';
  }
}

/** Which of `ids` the index holds: one realtime _mget per batch of 1,000 (sees writes before a refresh). */
export async function existingIds(
  client: Client,
  index: string,
  ids: string[],
  opts: { batchSize?: number } = {},
): Promise<Set<string>> {
  const found = new Set<string>();
  const batchSize = opts.batchSize ?? 1000;
  for (let start = 0; start < ids.length; start += batchSize) {
    const batch = ids.slice(start, start + batchSize);
    const res = await call('mget', () => client.mget({ index, ids: batch, _source: false }));
    for (const doc of res.docs) {
      if ('found' in doc && doc.found) found.add(doc._id);
    }
  }
  return found;
}

/** Makes recent writes visible to searches and counts. */
export async function refreshIndex(client: Client, index: string): Promise<void> {
  await call('refresh', () => client.indices.refresh({ index }));
}
