// Local stand-ins for the base images the Dockerfiles and the compose file name, for machines that cannot pull from a
// registry (used by `pnpm test:containers`; also runnable alone: `pnpm exec tsx test/containers/standins.ts [--rebuild]`):
//   image-search/debian-standin:bookworm            a Debian root file system from debootstrap (cached as a tarball)
//   image-search/node-standin:<official tag>        that plus this machine's Node, npm and corepack (docker/standins/node)
//   image-search/elasticsearch-standin:<tag>        the Elasticsearch 8 jars of `pnpm es:start` plus this JDK
//   image-search/rabbitmq-standin:<tag>             that Debian plus its rabbitmq-server (docker/standins/rabbitmq)
// They have names of their own, never the official ones, so a later real `docker compose up` on the same engine never
// runs a stand-in: the suite passes them to the builds as the NODE_IMAGE build argument and to the es service (see
// test/containers/compose.override.yml). A stand-in that is already there (from a previous run) is kept.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.join(repoRoot, 'docker/standins');
const cacheDir = process.env.IMAGE_SEARCH_CACHE ?? path.join(os.homedir(), '.cache', 'image-search');
export const DEBIAN_STANDIN = 'image-search/debian-standin:bookworm';

/**
 * The docker client: Debian's (matching the apt engine) when installed, else whatever is on PATH. Looked up at each
 * use: the suite may install docker.io after this module loads, and a newer client found on PATH before that (one
 * without its buildx plugin) refuses to build with BuildKit.
 */
export function dockerCli(): string {
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

export function say(line: string): void {
  process.stdout.write(`[containers] ${line}\n`);
}

/** Runs a command with its output shown, after printing it; throws with the command line when it fails. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const line = [cmd, ...args].join(' ');
  say(`$ ${line.length > 400 ? `${line.slice(0, 400)} …` : line}`);
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'],
    input: opts.input,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

export function docker(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): void {
  sh(dockerCli(), args, { env: { ...process.env, DOCKER_BUILDKIT: '1', ...opts.env }, cwd: opts.cwd });
}

export function imageExists(name: string): boolean {
  return spawnSync(dockerCli(), ['image', 'inspect', name], { stdio: 'ignore' }).status === 0;
}

/** The node image docker/Dockerfile defaults to (their `ARG NODE_IMAGE=`). */
export function nodeImageName(): string {
  const text = readFileSync(path.join(repoRoot, 'docker/Dockerfile'), 'utf8');
  const m = /^ARG NODE_IMAGE=(\S+)/m.exec(text);
  if (!m) throw new Error('docker/Dockerfile has no ARG NODE_IMAGE=');
  return m[1];
}

/** The image the compose file names whose repository is `repository` (es: docker.elastic.co/elasticsearch/…). */
export function composeImageName(repository: string): string {
  const text = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
  const image = [...text.matchAll(/^\s+image:\s*(\S+)/gm)].map((m) => m[1]).find((i) => i.split(':')[0] === repository);
  if (!image) throw new Error(`docker-compose.yml names no ${repository} image`);
  return image;
}

/** The stand-in's own name for an official image: `image-search/<last path part>-standin:<tag>`. */
export function standinName(official: string): string {
  const [repository, tag] = official.split(':');
  return `image-search/${repository.split('/').pop()}-standin:${tag}`;
}

function buildDebian(rebuild: boolean): void {
  if (!rebuild && imageExists(DEBIAN_STANDIN)) return;
  const tarball = path.join(cacheDir, 'debian-bookworm-minbase.tar');
  if (!existsSync(tarball) || rebuild) {
    mkdirSync(cacheDir, { recursive: true });
    const root = mkdtempSync(path.join(os.tmpdir(), 'image-search-rootfs-'));
    try {
      sh('debootstrap', [
        '--variant=minbase',
        '--include=ca-certificates,curl',
        'bookworm',
        root,
        'http://deb.debian.org/debian',
      ]);
      rmSync(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
      rmSync(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
      mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
      mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
      sh('tar', ['-C', root, '-cf', `${tarball}.tmp`, '.']);
      sh('mv', [`${tarball}.tmp`, tarball]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  docker([
    'import',
    '--change',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change',
    'CMD ["bash"]',
    tarball,
    DEBIAN_STANDIN,
  ]);
}

function withContext(prefix: string, fill: (dir: string) => void, build: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    fill(dir);
    build(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function buildNode(rebuild: boolean): string {
  const official = nodeImageName();
  const name = standinName(official);
  if (!rebuild && imageExists(name)) return name;
  const node = realpathSync(process.execPath);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  if (!official.startsWith(`node:${version}-`)) {
    say(`warning: this machine's Node is ${version} but the Dockerfiles pin ${official}; the stand-in runs ${version}`);
  }
  const modules = path.resolve(path.dirname(node), '../lib/node_modules');
  withContext(
    'image-search-node-',
    (dir) => {
      cpSync(path.join(here, 'node/Dockerfile'), path.join(dir, 'Dockerfile'));
      cpSync(node, path.join(dir, 'node'));
      for (const m of ['npm', 'corepack'])
        cpSync(path.join(modules, m), path.join(dir, 'node_modules', m), { recursive: true });
    },
    (dir) => docker(['build', '-q', '--label', 'org.image-search.standin=true', '-t', name, dir]),
  );
  return name;
}

async function buildEs(rebuild: boolean): Promise<string> {
  const name = standinName(composeImageName('docker.elastic.co/elasticsearch/elasticsearch'));
  if (!rebuild && imageExists(name)) return name;
  const { resolveClasspath } = await import('@image-search/local-elasticsearch');
  const classpath = (await resolveClasspath((line) => say(line))).split(path.delimiter).filter(Boolean);
  const javaHome = path.resolve(
    path.dirname(realpathSync(execFileSync('sh', ['-c', 'command -v javac'], { encoding: 'utf8' }).trim())),
    '..',
  );
  const sources = [
    path.join(here, 'es/ContainerElasticsearch.java'),
    ...javaFiles(path.join(repoRoot, 'packages/local-elasticsearch/java')),
  ].filter((f) => !f.endsWith('/LocalElasticsearch.java'));
  withContext(
    'image-search-es-',
    (dir) => {
      for (const f of ['Dockerfile', 'entrypoint.sh']) cpSync(path.join(here, 'es', f), path.join(dir, f));
      cpSync(
        path.join(repoRoot, 'packages/local-elasticsearch/log4j2.properties'),
        path.join(dir, 'log4j2.properties'),
      );
      mkdirSync(path.join(dir, 'lib'));
      for (const jar of classpath) cpSync(jar, path.join(dir, 'lib', path.basename(jar)));
      sh('javac', ['-nowarn', '-d', path.join(dir, 'classes'), '-cp', classpath.join(path.delimiter), ...sources]);
      // Debian's JDK links its configuration and CA store from /etc: copy what the links point to.
      cpSync(javaHome, path.join(dir, 'jdk'), {
        recursive: true,
        dereference: true,
        filter: (src) => existsSync(src) && !/\/(jmods|demo|man|src\.zip)$/.test(src),
      });
    },
    (dir) => docker(['build', '-q', '--label', 'org.image-search.standin=true', '-t', name, dir]),
  );
  return name;
}

function javaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.java'))
    .map((e) => path.join(e.parentPath, e.name));
}

function buildRabbitMq(rebuild: boolean): string {
  const name = standinName(composeImageName('rabbitmq'));
  if (!rebuild && imageExists(name)) return name;
  docker(['build', '-q', '--label', 'org.image-search.standin=true', '-t', name, path.join(here, 'rabbitmq')]);
  return name;
}

/** Makes every stand-in that is missing; returns the names of the node, Elasticsearch and RabbitMQ stand-ins. */
export async function buildStandins(
  opts: { rebuild?: boolean } = {},
): Promise<{ node: string; es: string; rabbitmq: string }> {
  const rebuild = opts.rebuild ?? false;
  buildDebian(rebuild);
  const node = buildNode(rebuild);
  const es = await buildEs(rebuild);
  const rabbitmq = buildRabbitMq(rebuild);
  return { node, es, rabbitmq };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const names = await buildStandins({ rebuild: process.argv.includes('--rebuild') });
  say(
    `stand-ins ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${Object.values(names).join(', ')}, ${DEBIAN_STANDIN}`,
  );
}
