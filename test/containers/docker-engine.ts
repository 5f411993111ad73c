// A Docker engine for the container suite: DOCKER_HOST when it answers, else one on a private socket and data folder
// (/tmp/image-search-docker; its images and build cache are kept between runs), started here with Debian's dockerd
// (apt-get install docker.io docker-compose debootstrap when missing and root) and stopped again afterwards.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerCli, say, sh } from './standins.ts';

const home = process.env.IMAGE_SEARCH_DOCKER_HOME ?? '/tmp/image-search-docker';
const privateHost = `unix://${path.join(home, 'docker.sock')}`;

export interface Engine {
  host: string;
  /** How to run Compose: Debian's docker-compose 1.29 when installed, else the Compose v2 plugin. */
  compose: string[];
  stop(): Promise<void>;
}

function answers(host: string): boolean {
  return (
    spawnSync(dockerCli(), ['version', '--format', '{{.Server.Version}}'], {
      env: { ...process.env, DOCKER_HOST: host },
      stdio: 'ignore',
      timeout: 15_000,
    }).status === 0
  );
}

function composeCommand(): string[] | null {
  if (existsSync('/usr/bin/docker-compose')) return ['/usr/bin/docker-compose'];
  if (spawnSync(dockerCli(), ['compose', 'version'], { stdio: 'ignore' }).status === 0) return [dockerCli(), 'compose'];
  return null;
}

function installWithApt(): void {
  const missing = [
    ['/usr/sbin/dockerd', 'docker.io'],
    ['/usr/bin/docker-compose', 'docker-compose'],
    ['/usr/sbin/debootstrap', 'debootstrap'],
  ].filter(([file]) => !existsSync(file));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '-qq', ...missing.map(([, pkg]) => pkg)], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

async function startDockerd(): Promise<{ dockerd: ChildProcess } | { failed: string }> {
  mkdirSync(path.join(home, 'data'), { recursive: true });
  const log = path.join(home, 'dockerd.log');
  const args = [
    '-H',
    privateHost,
    '--data-root',
    path.join(home, 'data'),
    '--exec-root',
    path.join(home, 'exec'),
    '--pidfile',
    path.join(home, 'dockerd.pid'),
    '--storage-driver',
    'overlay2',
  ];
  say(`$ dockerd ${args.join(' ')}  (log: ${log})`);
  const out = openSync(log, 'a');
  const dockerd = spawn('/usr/sbin/dockerd', args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  dockerd.unref();
  const deadline = Date.now() + 60_000;
  while (!answers(privateHost)) {
    if (dockerd.exitCode !== null || Date.now() > deadline) {
      if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
      const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
      return { failed: `dockerd did not start (exit ${dockerd.exitCode}); last lines of ${log}:\n${tail}` };
    }
    await sleep(500);
  }
  return { dockerd };
}

/** An engine to use, or the reason there is none (the suite then says so loudly and skips). */
export async function ensureEngine(): Promise<Engine | { unavailable: string }> {
  const given = process.env.DOCKER_HOST;
  if (given && answers(given)) {
    const compose = composeCommand();
    if (!compose) return { unavailable: 'neither docker-compose nor the docker compose plugin is installed' };
    say(`using the Docker engine at DOCKER_HOST=${given}`);
    return { host: given, compose, stop: async () => {} };
  }
  installWithApt();
  const compose = composeCommand();
  if (!compose) return { unavailable: 'docker-compose is not installed (apt-get install docker-compose, as root)' };
  if (answers(privateHost)) {
    say(`using the Docker engine already running at ${privateHost}`);
    return { host: privateHost, compose, stop: async () => {} };
  }
  if (!existsSync('/usr/sbin/dockerd'))
    return { unavailable: 'dockerd is not installed (apt-get install docker.io, as root)' };
  if (process.getuid?.() !== 0) return { unavailable: 'dockerd needs root to run here' };

  let started = await startDockerd();
  if ('failed' in started) {
    // A dockerd killed mid-run can leave network state it then panics on at start (libnetwork reservePools); that
    // state is rebuilt from scratch, while images and build cache are kept.
    say(`dockerd did not start; retrying once without its saved network state (${started.failed.split('\n')[0]})`);
    rmSync(path.join(home, 'data', 'network'), { recursive: true, force: true });
    started = await startDockerd();
    if ('failed' in started) return { unavailable: started.failed };
  }
  const dockerd = started.dockerd;
  say(`dockerd (pid ${dockerd.pid}) answers at ${privateHost}`);
  return {
    host: privateHost,
    compose,
    async stop() {
      say(`stopping dockerd (pid ${dockerd.pid})`);
      dockerd.kill('SIGTERM');
      const until = Date.now() + 30_000;
      while (dockerd.exitCode === null && dockerd.signalCode === null && Date.now() < until) await sleep(200);
      if (dockerd.exitCode === null && dockerd.signalCode === null) dockerd.kill('SIGKILL');
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One container suite at a time per engine home (they share the compose project and the engine): waits for a running
 * one to finish, takes over from one that died. Returns the release function.
 */
export async function lockSuite(timeoutMs = 20 * 60_000): Promise<() => void> {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'suite.lock');
  const deadline = Date.now() + timeoutMs;
  for (let announced = false; ; ) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another container suite (pid ${holder}) still holds ${file}`);
    if (!announced) say(`waiting for another container suite (pid ${holder}) to finish`);
    announced = true;
    await sleep(2000);
  }
}
