// Where the shared fixtures live (../shared/fixtures beside the repository), and a one-line reason when they do not.
import { existsSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const FIXTURES_DIR = path.resolve(repoRoot, '../shared/fixtures');

/** The absolute path of a fixture, and why tests needing it skip when it is absent (undefined when present). */
export function fixture(relative: string): { path: string; missing: string | undefined } {
  const full = path.join(FIXTURES_DIR, relative);
  return {
    path: full,
    missing: existsSync(full) ? undefined : `missing fixture ${full} (shared fixtures not checked out)`,
  };
}
