// The product as users run it: every image built from its Dockerfile, the compose stack brought up and healthy, a URL
// list of generated colour pictures served from the host, a search through the UI port, the `scale` profile (RabbitMQ and
// two embedder replicas), then everything torn down.
// Nothing can be pulled here, so base images are local stand-ins under names of their own (standins.ts), and the `model`
// service makes the tiny synthetic model and verifies it (compose.override.yml). Builds trust this machine's CA bundle through docker/certs/ (the extra-CA
// route that works with docker-compose 1.29 too).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { allVariables } from '@image-search/config';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEngine, lockSuite } from './docker-engine.ts';
import { buildStandins, dockerCli, repoRoot, say, sh } from './standins.ts';

const PROJECT = 'image-search-ct';
const SERVICES = ['downloader', 'embedder', 'search-api', 'ui'] as const;
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';
const CA_IN_CONTEXT = path.join(repoRoot, 'docker/certs/test-host-ca.crt');
const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 170, 50],
  blue: [30, 50, 220],
  yellow: [235, 215, 30],
};
/** Served too, but listed only when the `scale` profile runs, so they reach the embedders through the work queue. */
const MORE_COLOURS: Record<string, [number, number, number]> = {
  purple: [130, 40, 170],
  cyan: [30, 200, 210],
  orange: [240, 140, 20],
  white: [245, 245, 245],
};

// One suite at a time: they share the engine and the compose project name.
const unlock = await lockSuite();
const engine = await ensureEngine();
if ('unavailable' in engine) {
  unlock();
  const bar = '!'.repeat(100);
  console.warn(`${bar}\n! CONTAINER SUITE SKIPPED: no Docker engine: ${engine.unavailable}\n${bar}`);
}

/** Pictures on the images volume before the health test's stack starts. */
const LIBRARY = 5_000;

/**
 * Writes LIBRARY pictures, each a colour of its own (so a document of its own), into the images volume's library/
 * folder, run with the downloader image (it has sharp and writes that volume), as a library copied in would be.
 */
const SEED_LIBRARY = `const sharp = require('sharp');
(async () => {
  require('node:fs').mkdirSync('/data/images/library', { recursive: true });
  for (let n = 0; n < ${LIBRARY}; n++) {
    const background = { r: n % 256, g: Math.floor(n / 256) % 256, b: 128 };
    await sharp({ create: { width: 160, height: 120, channels: 3, background } }).png().toFile('/data/images/library/' + n + '.png');
  }
})();`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The address containers reach the host on (what host.docker.internal:host-gateway resolves to). */
function bridgeGateway(): string {
  // os.networkInterfaces() leaves out a bridge with no container attached yet (no carrier), so ask ip(8).
  const r = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0'], { encoding: 'utf8' });
  const ip = /inet (\d+\.\d+\.\d+\.\d+)/.exec(r.stdout ?? '')?.[1];
  if (!ip) throw new Error(`no docker0 bridge address (ip: ${r.stderr || r.error?.message}): cannot serve pictures`);
  return ip;
}

function withoutProductSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const product = allVariables();
  return Object.fromEntries(Object.entries(env).filter(([name]) => !product.has(name)));
}

function output(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { cwd: repoRoot, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

describe.skipIf('unavailable' in engine)('docker compose stack', () => {
  if ('unavailable' in engine) return;
  const work = mkdtempSync(path.join(os.tmpdir(), 'image-search-containers-'));
  const timings: Record<string, number> = {};
  let pictures: http.Server;
  let env: NodeJS.ProcessEnv;
  let uiPort = 0;
  let picturesBase = '';

  const files = ['-p', PROJECT, '-f', 'docker-compose.yml', '-f', 'test/containers/compose.override.yml'];
  const composeArgs = (args: string[]) => [...engine.compose.slice(1), ...files, ...args];
  const compose = (args: string[]) => sh(engine.compose[0], composeArgs(args), { cwd: repoRoot, env });
  const composeOut = (args: string[]) => output(engine.compose[0], composeArgs(args), env);

  /** A URL list of the served pictures of these colours, for the downloader. */
  function urlList(name: string, colours: Record<string, unknown>): string {
    const file = path.join(work, name);
    writeFileSync(
      file,
      `${Object.keys(colours)
        .map((c) => `${picturesBase}/${c}.png`)
        .join('\n')}\n`,
    );
    return file;
  }

  /** What `up --wait` waits for (docker-compose 1.29 has none): every health check passing, the ui's last, which
   * searches through ui → search-api → Elasticsearch. Fails at once when a container exits or turns unhealthy. */
  async function waitUntilHealthy(containers = SERVICES.length + 2): Promise<void> {
    const deadline = Date.now() + 5 * 60_000;
    let states = '';
    for (;;) {
      const ids = composeOut(['ps', '-q']).split('\n').filter(Boolean);
      const lines = ids.map((id) =>
        output(
          dockerCli(),
          [
            'inspect',
            '-f',
            '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
            id,
          ],
          env,
        ).trim(),
      );
      if (lines.join('\n') !== states) {
        states = lines.join('\n');
        say(`containers:\n  ${lines.join('\n  ')}`);
      }
      const ready =
        lines.length === containers &&
        lines.every((l) => / running 0 healthy$/.test(l) || (/[-_]model[-_]/.test(l) && / exited 0 ?$/.test(l)));
      if (ready) return;
      if (lines.some((l) => / exited [1-9]/.test(l) || / unhealthy$/.test(l)) || Date.now() > deadline) {
        compose(['logs', '--tail', '40']);
        throw new Error(`the stack did not become healthy:\n${states}`);
      }
      await sleep(1000);
    }
  }

  beforeAll(async () => {
    const t0 = Date.now();
    process.env.DOCKER_HOST = engine.host;
    const standins = await buildStandins();
    timings.standins = Date.now() - t0;

    const files = new Map<string, Buffer>();
    for (const [name, [r, g, b]] of Object.entries({ ...COLOURS, ...MORE_COLOURS })) {
      const png = sharp({ create: { width: 80, height: 60, channels: 3, background: { r, g, b } } }).png();
      files.set(`/${name}.png`, await png.toBuffer());
    }
    pictures = http.createServer((req, res) => {
      const body = files.get(req.url ?? '');
      res.writeHead(body ? 200 : 404, { 'content-type': body ? 'image/png' : 'text/plain' });
      res.end(body ?? 'not found');
    });
    const gateway = bridgeGateway();
    await new Promise<void>((resolve) => pictures.listen(0, gateway, resolve));
    const port = (pictures.address() as net.AddressInfo).port;
    picturesBase = `http://host.docker.internal:${port}`;
    const urlFile = urlList('image_urls.txt', COLOURS);
    say(`serving ${files.size} pictures on ${gateway}:${port} (host.docker.internal inside the containers)`);

    uiPort = await freePort();
    env = {
      // The stack's settings come from the compose file and this suite only: a developer's ES_HOST or MODEL_DIR
      // (meant for their native services) would otherwise be interpolated into the containers.
      ...withoutProductSettings(process.env),
      // Debian's docker client first: docker-compose 1.29 shells out to `docker build` for BuildKit builds.
      PATH: `/usr/bin:${process.env.PATH}`,
      DOCKER_HOST: engine.host,
      DOCKER_BUILDKIT: '1',
      COMPOSE_DOCKER_CLI_BUILD: '1',
      IMAGE_SEARCH_TEST_URL_FILE: urlFile,
      IMAGE_SEARCH_NODE_STANDIN: standins.node,
      IMAGE_SEARCH_ES_STANDIN: standins.es,
      IMAGE_SEARCH_RABBITMQ_STANDIN: standins.rabbitmq,
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      ES_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      UI_PORT: String(uiPort),
      POLL_SECONDS: '2',
    };

    compose(['down', '-v', '--remove-orphans', '-t', '5']);
    copyFileSync(HOST_CA, CA_IN_CONTEXT);
    try {
      for (const service of SERVICES) {
        const t = Date.now();
        compose(['build', service]);
        timings[`build ${service}`] = Date.now() - t;
      }
    } finally {
      rmSync(CA_IN_CONTEXT, { force: true });
    }

    const up = Date.now();
    compose(['up', '-d', '--no-build']);
    await waitUntilHealthy();
    timings['stack up (up -d to all healthy)'] = Date.now() - up;
  });

  afterAll(async () => {
    if (env) compose(['down', '-v', '--remove-orphans', '-t', '15']);
    await new Promise((resolve) => (pictures ? pictures.close(resolve) : resolve(undefined)));
    rmSync(CA_IN_CONTEXT, { force: true });
    rmSync(work, { recursive: true, force: true });
    await engine.stop();
    unlock();
    say(
      `timings:\n${Object.entries(timings)
        .map(([k, ms]) => `  ${k.padEnd(34)} ${(ms / 1000).toFixed(1)} s`)
        .join('\n')}`,
    );
  });

  it('finds the listed pictures through the UI port, red first for "red"', async () => {
    type Hit = { source_url: string; thumbnail_url: string | null; url: string };
    let hits: Hit[] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${uiPort}/api/search/text?q=red&k=4`).catch(() => null);
      if (res?.ok) hits = (await res.json()) as Hit[];
      if (hits.length === 4) break;
      await sleep(1000);
    }
    expect(hits.map((h) => h.source_url).sort()).toEqual(
      Object.keys(COLOURS)
        .map((c) => `${picturesBase}/${c}.png`)
        .sort(),
    );
    expect(hits[0].source_url).toBe(`${picturesBase}/red.png`);

    const picture = await fetch(`http://127.0.0.1:${uiPort}/api${hits[0].url}`);
    expect(picture.status).toBe(200);
    expect(
      Buffer.from(await picture.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const thumbnail = await fetch(`http://127.0.0.1:${uiPort}/api${hits[0].thumbnail_url}`);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toContain('image/webp');
    const page = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('runs each service as a non-root user under an init process, reading shared volumes read-only', () => {
    for (const service of SERVICES) {
      expect(composeOut(['exec', '-T', service, 'id', '-u']).trim(), `${service} user`).not.toBe('0');
      expect(composeOut(['exec', '-T', service, 'cat', '/proc/1/cmdline']), `${service} PID 1`).toMatch(
        /^\/usr\/bin\/tini/,
      );
    }
    for (const [service, folder] of [
      ['search-api', '/data/images'],
      ['search-api', '/data/thumbnails'],
      ['embedder', '/data/images'],
    ]) {
      const r = spawnSync(engine.compose[0], composeArgs(['exec', '-T', service, 'sh', '-c', `touch ${folder}/.x`]), {
        cwd: repoRoot,
        env,
        encoding: 'utf8',
      });
      expect(r.status, `${service} could write to ${folder}`).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(/Read-only file system/);
    }
  });

  // Issue 19: the `scale` profile added to the running stack, as the README runs it: RabbitMQ (a stand-in of Debian's
  // broker here) and two embedder replicas consuming what the downloader announces, here four pictures newly listed.
  it('runs two embedder replicas on the work queue: each picture indexed once, queue figures in /meta', async () => {
    const plain = env;
    env = {
      ...env,
      QUEUE_URL: 'amqp://guest:guest@rabbitmq:5672',
      IMAGE_SEARCH_TEST_URL_FILE: urlList('scale_urls.txt', MORE_COLOURS),
    };
    const all = Object.keys({ ...COLOURS, ...MORE_COLOURS }).map((c) => `${picturesBase}/${c}.png`);
    try {
      const up = Date.now();
      // The broker first, so the downloader's announcements go to the queue rather than to its fallback (the scan).
      compose(['--profile', 'scale', 'up', '-d', '--no-build', 'rabbitmq']);
      await waitUntilHealthy(SERVICES.length + 3);
      compose(['--profile', 'scale', 'up', '-d', '--no-build', '--scale', 'embedder=2']);
      // es, model, rabbitmq, the downloader, two embedders, search-api, ui.
      await waitUntilHealthy(SERVICES.length + 4);
      timings['scale profile: up to all healthy'] = Date.now() - up;

      type Meta = { doc_count: number; work_queue: { queued: number; failed: number } | null };
      const meta = async () => (await (await fetch(`http://127.0.0.1:${uiPort}/api/meta`)).json()) as Meta;
      const deadline = Date.now() + 120_000;
      let figures = await meta();
      while ((figures.doc_count < all.length || figures.work_queue?.queued !== 0) && Date.now() < deadline) {
        await sleep(1000);
        figures = await meta();
      }
      timings['scale profile: up to every picture indexed'] = Date.now() - up;
      expect(figures).toMatchObject({ doc_count: all.length, work_queue: { queued: 0, failed: 0 } });
      const res = await fetch(`http://127.0.0.1:${uiPort}/api/search/text?q=red&k=20`);
      const hits = (await res.json()) as Array<{ source_url: string }>;
      expect(hits.map((h) => h.source_url).sort()).toEqual(all.sort());

      // The downloader announced every picture (queued 0 and failed 0 above: the replicas took them all), both replicas
      // consume the queue, and each health check reads a heartbeat of its own.
      expect(composeOut(['logs', '--no-color', 'downloader'])).not.toContain('work queue unavailable');
      const logs = composeOut(['logs', '--no-color', 'embedder']);
      expect(logs.match(/consuming the work queue/g)?.length, logs.slice(-2000)).toBe(2);
      const hosts = [1, 2].map(
        (i) =>
          (
            JSON.parse(composeOut(['exec', '-T', '--index', String(i), 'embedder', 'cat', '/tmp/heartbeat.json'])) as {
              host: string;
            }
          ).host,
      );
      expect(new Set(hosts).size).toBe(2);
    } finally {
      compose(['--profile', 'scale', 'down', '-v', '--remove-orphans', '-t', '5']);
      env = plain;
    }
  });

  // Last: it replaces the stack above with a new one. Issue 18: a first start over a large library once kept
  // `up --wait` waiting for the embedder's first round. Here 5,000 pictures are on the images volume before the stack
  // starts, and the embedder runs the RN50-shaped model (a few pictures a second on a CPU, so its first round takes
  // many minutes): the stack must still come up healthy, search must answer at once, and the index must go on filling.
  it('comes up healthy over 5,000 pictures that take far longer to embed, answers at once, and keeps filling', async () => {
    compose(['down', '-v', '--remove-orphans', '-t', '5']);
    env = { ...env, IMAGE_SEARCH_TEST_ARCH: 'rn50' };
    const seeded = Date.now();
    compose(['run', '--rm', '--no-deps', '-T', '--entrypoint', 'node', 'downloader', '-e', SEED_LIBRARY]);
    timings['rn50 stack: 5,000 pictures written'] = Date.now() - seeded;
    const up = Date.now();
    compose(['up', '-d', '--no-build']);
    await waitUntilHealthy();
    const healthy = Date.now();
    timings['rn50 stack: up to all healthy'] = healthy - up;

    const api = (route: string) => fetch(`http://127.0.0.1:${uiPort}/api${route}`);
    let answered = false;
    while (!answered && Date.now() - healthy < 60_000) {
      answered = (await api('/search/text?q=a+red+picture&k=10').catch(() => null))?.ok ?? false;
      if (!answered) await sleep(100);
    }
    expect(answered, 'a search answered after the stack came up healthy').toBe(true);
    timings['rn50 stack: healthy to first search answer'] = Date.now() - healthy;

    const indexed = async () => ((await (await api('/meta')).json()) as { doc_count: number }).doc_count;
    const first = await indexed();
    say(`healthy with ${first} of ${LIBRARY} pictures indexed`);
    expect(first).toBeLessThan(LIBRARY);
    let later = first;
    const deadline = Date.now() + 120_000;
    while (later <= first && Date.now() < deadline) {
      await sleep(2000);
      later = await indexed();
    }
    expect(later, 'the index kept filling').toBeGreaterThan(first);
    say(`then ${later} indexed ${((Date.now() - healthy) / 1000).toFixed(0)} s after the stack was healthy`);
  });
});
