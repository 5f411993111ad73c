// One round: scan the folder, work out what changed, embed what is new, remove what is gone, report.
import type { Preprocessed } from '@image-search/clip';
import { type Logger, Progress } from '@image-search/log';
import { readSource } from '@image-search/picture-store';
import {
  aliasTargets,
  type BulkOp,
  bulkWrite,
  type Client,
  docsLackingFacts,
  existingIds,
  type IndexSpec,
  promoteIndex,
} from '@image-search/search-index';
import { backfillFacts } from './backfill.ts';
import { countedUntilAvailable } from './metrics.ts';
import { pathFacts, sourceHost } from './picture-facts.ts';
import { embedCandidates, type PipelineCounts } from './pipeline.ts';
import { planRound } from './plan.ts';
import { scanFolder } from './scan.ts';
import type { StateRecord, StateStore } from './state.ts';
import { removeThumbnail } from './thumbnails.ts';

export interface RoundDeps {
  imagesDir: string;
  thumbnailsDir: string;
  batchSize: number;
  client: Client;
  spec: IndexSpec;
  /** The model's concrete index (from ensureModelIndex). */
  index: string;
  store: StateStore;
  preprocess(data: Buffer): Promise<Preprocessed>;
  embed(batch: Float32Array[]): Promise<Float32Array[]>;
  logger: Logger;
  /** Progress cadence (default 5 s). */
  progressEveryMs?: number;
  concurrency?: number;
  /** Told how many pictures the folder holds, once scanned. */
  onScanned?(files: number): void;
}

export interface RoundSummary extends PipelineCounts {
  files: number;
  unchanged: number;
  knownFailed: number;
  candidates: number;
  deletedPaths: number;
  /** Documents deleted because no path holds their bytes any more. */
  removed: number;
  /** Documents re-pointed at another path holding the same bytes. */
  repointed: number;
  /** Documents indexed before that got the picture's facts (metadata back-fill). */
  backfilled: number;
  /** True when every file was settled: the index holds everything the folder has. */
  complete: boolean;
  promoted: boolean;
  scanMs: number;
  durationMs: number;
  imagesPerSec: number;
}

export async function runRound(deps: RoundDeps): Promise<RoundSummary> {
  const t0 = performance.now();
  const { store, logger, client, index } = deps;
  const es = countedUntilAvailable(client, logger);

  const scanned = await scanFolder(deps.imagesDir);
  const scanMs = performance.now() - t0;
  deps.onScanned?.(scanned.length);
  const plan = planRound(scanned, store);

  // Forget deleted paths first; the documents they held become orphans, settled once this round's new paths are known
  // (a moved file keeps its document).
  const forget: StateRecord[] = [];
  for (const d of plan.deleted) {
    forget.push({ p: d.path, del: 1 });
    if (d.state.status === 'indexed') forget.push({ orphan: d.state.id });
  }
  await store.commit(forget);

  const progress = new Progress(logger, 'embedding', plan.candidates.length, deps.progressEveryMs ?? 5000);
  if (plan.candidates.length > 0) {
    logger.info(
      { files: scanned.length, candidates: plan.candidates.length, deleted: plan.deleted.length },
      'round started',
    );
  }
  const counts = await embedCandidates(
    {
      imagesDir: deps.imagesDir,
      thumbnailsDir: deps.thumbnailsDir,
      batchSize: deps.batchSize,
      model: deps.spec.model,
      store,
      preprocess: deps.preprocess,
      embed: deps.embed,
      write: (ops) => es('bulk write', () => bulkWrite(client, index, ops)),
      existing: (ids) => es('existing ids', () => existingIds(client, index, ids)),
      logger,
      progress,
      concurrency: deps.concurrency,
    },
    plan.candidates,
  );

  const { removed, repointed } = await settleOrphans(deps, es);
  const backfill = await backfillFacts({
    imagesDir: deps.imagesDir,
    stale: (after) => es('docs lacking facts', () => docsLackingFacts(client, index, { after })),
    write: (ops) => es('bulk write', () => bulkWrite(client, index, ops)),
    logger,
  });
  await store.compactIfLarge();

  const complete = counts.errors === 0 && counts.vanished === 0;
  let promoted = false;
  if (complete) {
    const targets = await es('alias', () => aliasTargets(client, deps.spec.alias));
    if (!(targets.length === 1 && targets[0] === index)) {
      try {
        await es('promote index', () => promoteIndex(client, deps.spec, index));
        promoted = true;
        logger.info({ alias: deps.spec.alias, index }, 'the new index holds every picture: alias switched to it');
      } catch (err) {
        // e.g. ES_INDEX names an old concrete index: keep indexing, keep the old one serving, say what to do.
        logger.error({ alias: deps.spec.alias, index, err: (err as Error).message }, 'could not point the alias');
      }
    }
  }
  const durationMs = performance.now() - t0;
  const processed = counts.embedded + counts.duplicates + counts.alreadyIndexed + counts.failed;
  return {
    ...counts,
    modelMs: Math.round(counts.modelMs),
    files: scanned.length,
    unchanged: plan.unchanged,
    knownFailed: plan.knownFailed,
    candidates: plan.candidates.length,
    deletedPaths: plan.deleted.length,
    removed,
    repointed,
    backfilled: backfill.updated,
    complete,
    promoted,
    scanMs: Math.round(scanMs),
    durationMs: Math.round(durationMs),
    imagesPerSec: durationMs > 0 ? Math.round((processed / durationMs) * 10_000) / 10 : 0,
  };
}

/** Deletes documents no path holds any more (and their thumbnails); re-points the others at a path that does. */
async function settleOrphans(
  deps: RoundDeps,
  es: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
): Promise<{ removed: number; repointed: number }> {
  const { store, client, index, logger } = deps;
  const orphans = store.orphans();
  if (orphans.length === 0) return { removed: 0, repointed: 0 };
  let removed = 0;
  let repointed = 0;
  for (let start = 0; start < orphans.length; start += 500) {
    const ids = orphans.slice(start, start + 500);
    const ops: BulkOp[] = [];
    for (const id of ids) {
      const [keep] = store.pathsOf(id);
      if (keep === undefined) ops.push({ id, delete: true });
      else {
        const source_url = (await readSource(deps.imagesDir, keep))?.url ?? null;
        ops.push({ id, update: { path: keep, ...pathFacts(keep), source_url, source_host: sourceHost(source_url) } });
      }
    }
    const result = await es('remove documents', () => bulkWrite(client, index, ops));
    const failed = new Set(result.failed.filter((f) => f.status !== 404).map((f) => f.id));
    const done: StateRecord[] = [];
    for (const op of ops) {
      if (failed.has(op.id)) continue;
      if ('delete' in op) {
        await removeThumbnail(deps.thumbnailsDir, op.id);
        removed++;
      } else repointed++;
      done.push({ gone: op.id });
    }
    for (const f of result.failed) {
      if (f.status !== 404)
        logger.error({ id: f.id, status: f.status, reason: f.reason }, 'could not settle a document');
    }
    await store.commit(done);
  }
  return { removed, repointed };
}
