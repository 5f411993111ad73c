// Metadata back-fill: documents indexed before the embedder read a picture's facts get them as partial updates, read
// from the file's header (no decode, no model run); vectors are left as they are. Each document is written once: the
// update sets facts_version, which takes it out of the next query.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@image-search/log';
import { readSource } from '@image-search/picture-store';
import type { BulkOp, BulkResult, PictureFacts, StaleDoc } from '@image-search/search-index';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { pictureFacts, readEmbeddedFacts } from './picture-facts.ts';

export interface BackfillDeps {
  imagesDir: string;
  /** A page of documents lacking facts, after the given path; waits out outages itself. */
  stale(after: string | undefined): Promise<StaleDoc[]>;
  write(ops: BulkOp[]): Promise<BulkResult>;
  logger: Logger;
}

export async function backfillFacts(deps: BackfillDeps): Promise<{ updated: number; unreadable: number }> {
  const t0 = performance.now();
  const limit = pLimit(4);
  let updated = 0;
  let unreadable = 0;
  let after: string | undefined;
  for (;;) {
    const page = await deps.stale(after);
    if (page.length === 0) break;
    after = page[page.length - 1].path;
    const facts = await Promise.all(page.map((d) => limit(() => factsOfFile(deps.imagesDir, d.path))));
    const ops: BulkOp[] = [];
    page.forEach((d, i) => {
      const f = facts[i];
      if (f) ops.push({ id: d.id, update: f });
      else unreadable++;
    });
    const result = await deps.write(ops);
    updated += result.ok;
    for (const f of result.failed) {
      deps.logger.error({ id: f.id, status: f.status, reason: f.reason }, 'could not add facts to a document');
    }
  }
  if (updated + unreadable > 0) {
    const ms = Math.round(performance.now() - t0);
    deps.logger.info({ updated, unreadable, ms }, 'metadata back-fill: facts added to documents indexed before');
  }
  return { updated, unreadable };
}

/**
 * A file's facts from its header; null when it is gone (settled as deleted next round) or no longer a picture
 * sharp reads (it changed on disk and is re-embedded next round).
 */
async function factsOfFile(imagesDir: string, relPath: string): Promise<PictureFacts | null> {
  const file = path.join(imagesDir, relPath);
  try {
    const [info, meta] = await Promise.all([stat(file), sharp(file).metadata()]);
    const format = meta.format === 'heif' ? 'avif' : (meta.format ?? 'unknown');
    return pictureFacts({
      path: relPath,
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
      format,
      bytes: info.size,
      source: await readSource(imagesDir, relPath),
      modifiedAt: info.mtime,
      embedded: await readEmbeddedFacts(file, format),
    });
  } catch {
    return null;
  }
}
