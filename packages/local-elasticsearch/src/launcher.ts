// The JVM side of a local node: Java present and new enough, the Elasticsearch classpath resolved by Maven (once,
// cached under .es/), and the launcher in java/ compiled against it (once).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { esHome, LocalEsError, packageDir } from './settings.ts';

const run = promisify(execFile);

const pomFile = path.join(packageDir, 'pom.xml');
const javaSources = path.join(packageDir, 'java');
/** The log4j2 configuration every local node (and the container stand-in) uses. */
export const logConfig = path.join(packageDir, 'log4j2.properties');
/** The launcher's main class; also how a pid is recognised as one of our nodes. */
export const mainClass = 'LocalElasticsearch';

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function requireTool(cmd: string, args: string[], missing: string): Promise<void> {
  try {
    await run(cmd, args);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LocalEsError(missing);
    throw e;
  }
}

/**
 * The Elasticsearch classpath, from .es/classpath-<pom hash>.txt when every jar in it is still in the Maven cache,
 * otherwise resolved by Maven (downloads go to ~/.m2 as usual).
 */
export async function resolveClasspath(log: (line: string) => void = () => {}): Promise<string> {
  const pom = await readFile(pomFile, 'utf8');
  const cacheFile = path.join(esHome, `classpath-${sha256(pom)}.txt`);
  if (existsSync(cacheFile)) {
    const cached = (await readFile(cacheFile, 'utf8')).trim();
    if (cached.length > 0 && cached.split(path.delimiter).every((jar) => existsSync(jar))) return cached;
  }
  await requireTool(
    'mvn',
    ['-v'],
    'Maven (mvn) is not installed: install it (Debian: apt-get install maven) so the Elasticsearch jars can be fetched',
  );
  log('resolving the Elasticsearch jars with Maven (first start only; cached in ~/.m2 and .es/)');
  await mkdir(esHome, { recursive: true });
  const out = path.join(esHome, `classpath-${process.pid}.tmp`);
  const mvn = (...extra: string[]) =>
    run('mvn', ['-q', '-B', ...extra, '-f', pomFile, 'dependency:build-classpath', `-Dmdep.outputFile=${out}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  try {
    await mvn();
  } catch (online) {
    try {
      // No network, but ~/.m2 may already hold every jar (a cleaned .es/ on an offline machine).
      await mvn('-o');
    } catch {
      const err = online as { stdout?: string; stderr?: string };
      const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
      throw new LocalEsError(
        `Maven could not resolve the Elasticsearch jars (is Maven Central reachable? Once ~/.m2 has them, no network is needed):\n${output}`,
      );
    }
  }
  await rename(out, cacheFile);
  return (await readFile(cacheFile, 'utf8')).trim();
}

async function javaSourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.java'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Compiles the launcher into .es/classes-<hash of sources and classpath>, once. */
export async function compileLauncher(classpath: string, log: (line: string) => void): Promise<string> {
  const sources = await javaSourceFiles(javaSources);
  const texts = await Promise.all(sources.map((f) => readFile(f, 'utf8')));
  const out = path.join(esHome, `classes-${sha256(classpath, ...sources, ...texts)}`);
  if (existsSync(path.join(out, `${mainClass}.class`))) return out;
  await requireTool(
    'javac',
    ['-version'],
    'javac is missing: install a JDK, not only a JRE (Debian: apt-get install openjdk-17-jdk-headless)',
  );
  log('compiling the Elasticsearch launcher (first start only)');
  const tmp = `${out}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await run('javac', ['-nowarn', '-d', tmp, '-cp', classpath, ...sources], { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new LocalEsError(
      `javac failed on packages/local-elasticsearch/java:\n${(err.stderr ?? err.stdout ?? '').trim()}`,
    );
  }
  await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
  return out;
}

export async function checkJava(): Promise<void> {
  let version = '';
  try {
    const { stderr } = await run('java', ['-version']);
    version = stderr;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LocalEsError(
        'Java is not installed: Elasticsearch needs Java 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless)',
      );
    }
    throw e;
  }
  const major = Number(/version "(\d+)/.exec(version)?.[1] ?? 0);
  if (major > 0 && major < 17) {
    throw new LocalEsError(`Java ${major} is too old: Elasticsearch 8 needs Java 17 or newer (install openjdk-17)`);
  }
}
