// The embedder as a work-queue consumer: each delivered batch of "picture stored" messages goes through the same
// pipeline as a scan's new files, and a message is settled (acked, retried or dead-lettered) by what became of its
// picture — acked only once Elasticsearch has acknowledged the picture's document.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Delivered, PictureOutcome } from '@image-search/work-queue';
import { embedCandidates, type PathOutcome, type PipelineDeps } from './pipeline.ts';
import type { Candidate } from './plan.ts';
import { StateStore } from './state.ts';

export type QueueBatchDeps = Omit<PipelineDeps, 'store' | 'onSettled' | 'progress'>;

function toPictureOutcome(outcome: PathOutcome | undefined): PictureOutcome {
  switch (outcome?.status) {
    case 'indexed':
    case 'vanished': // deleted since it was stored: nothing to index (the scan forgets deleted paths)
      return { status: 'done' };
    case 'failed':
    case 'error':
      return { status: 'failed', reason: outcome.reason };
    default:
      return { status: 'failed', reason: 'not settled by the pipeline' };
  }
}

export async function embedDelivered(deps: QueueBatchDeps, batch: Delivered[]): Promise<PictureOutcome[]> {
  const outcomes = new Map<string, PathOutcome>();
  const candidates: Candidate[] = [];
  for (const { picture } of batch) {
    try {
      const st = await stat(path.join(deps.imagesDir, picture.file));
      candidates.push({ path: picture.file, size: st.size, mtimeMs: st.mtimeMs });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      outcomes.set(picture.file, { status: 'vanished' });
    }
  }
  // The index is this batch's memory: a picture indexed before (by any worker) is found there, not re-embedded.
  await embedCandidates(
    { ...deps, store: StateStore.inMemory(), onSettled: (p, outcome) => outcomes.set(p, outcome) },
    candidates,
  );
  return batch.map(({ picture }) => toPictureOutcome(outcomes.get(picture.file)));
}
