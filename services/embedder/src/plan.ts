// What a round has to do, from the folder as scanned and the state as remembered: pure, so it is unit-tested alone.
import type { ScannedFile } from './scan.ts';
import type { FileState } from './state.ts';

export interface Candidate extends ScannedFile {
  /** The id this path held before, when the file changed. */
  prevId?: string;
}

export interface RoundPlan {
  /** New or changed files (size or mtime differ): read, hash and, if needed, embed. */
  candidates: Candidate[];
  /** Paths remembered but no longer on disk, with what they held. */
  deleted: Array<{ path: string; state: FileState }>;
  unchanged: number;
  /** Unchanged files that failed before (corrupt, unsupported): not retried until they change. */
  knownFailed: number;
}

export function planRound(
  scanned: ScannedFile[],
  state: { get(p: string): FileState | undefined; entries(): Iterable<[string, FileState]> },
): RoundPlan {
  const plan: RoundPlan = { candidates: [], deleted: [], unchanged: 0, knownFailed: 0 };
  const seen = new Set<string>();
  for (const f of scanned) {
    seen.add(f.path);
    const s = state.get(f.path);
    if (s && s.size === f.size && s.mtimeMs === f.mtimeMs) {
      if (s.status === 'failed') plan.knownFailed++;
      else plan.unchanged++;
      continue;
    }
    plan.candidates.push(s?.status === 'indexed' ? { ...f, prevId: s.id } : f);
  }
  for (const [p, s] of state.entries()) {
    if (!seen.has(p)) plan.deleted.push({ path: p, state: s });
  }
  return plan;
}
