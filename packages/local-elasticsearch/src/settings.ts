// Where local instances live, what they default to, and the one error type the CLI prints as a plain message.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, str } from '@image-search/config';

/** This package's folder: pom.xml, java/ and log4j2.properties. */
export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(packageDir, '../..');
/** Cached classpath, compiled launcher, start locks and one folder per instance. */
export const esHome = path.join(repoRoot, '.es');

export const DEFAULT_PORT = 9200;
export const DEFAULT_HEAP = '1g';

/** Environment of pnpm es:start and of the test global setup (ES_HOST itself belongs to the services' specs). */
export const localEsSpec = {
  ES_PORT: int(DEFAULT_PORT, { min: 1, max: 65_000 }),
  ES_HEAP: str(DEFAULT_HEAP, 'a JVM heap size such as 1g or 512m'),
};

/** A problem the person starting Elasticsearch can act on; the CLI prints only its message. */
export class LocalEsError extends Error {}

export function hostFor(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function instanceDirFor(port: number): string {
  return path.join(esHome, `port-${port}`);
}
