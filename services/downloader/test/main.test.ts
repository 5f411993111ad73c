// The real `pnpm downloader` process: configuration errors, --once, a missing list, and SIGTERM in the middle of a round.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, makePictures, type Pictures, pictureRoutes, startServer } from './fault-server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'services/downloader/src/main.ts');
const stem = (url: string) => createHash('sha1').update(url).digest('hex').slice(0, 16);

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stdout: () => string;
}

function startDownloader(env: Record<string, string>, args: string[] = ['--once']): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}

function dribble(res: http.ServerResponse, body: Buffer, pieces: number, everyMs: number): void {
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
  const size = Math.ceil(body.length / pieces);
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(body.subarray(at, at + size));
    at += size;
    if (at >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, everyMs);
}

let server: FaultServer;
let pictures: Pictures;
let dir: string;

beforeAll(async () => {
  pictures = await makePictures();
  server = await startServer({
    ...pictureRoutes(pictures),
    '/gone': (_q, res) => {
      res.writeHead(410);
      res.end();
    },
    // finishes about a second after it starts: inside the shutdown grace
    '/slow-finish': (_q, res) => dribble(res, pictures.jpeg, 10, 120),
    // would take a minute: must be cut and cleaned up
    '/very-slow/1': (_q, res) => dribble(res, pictures.png, 600, 100),
    '/very-slow/2': (_q, res) => dribble(res, pictures.png, 600, 100),
    '/very-slow/3': (_q, res) => dribble(res, pictures.png, 600, 100),
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-main-'));
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pnpm downloader', () => {
  it('stops with status 2 and one line naming the variable when MAX_CONCURRENCY is bad', async () => {
    const { code, stderr, stdout } = await startDownloader({
      MAX_CONCURRENCY: 'lots',
      URL_FILE: path.join(dir, 'none.txt'),
      OUTPUT_DIR: path.join(dir, 'bad-config'),
    }).done;
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/MAX_CONCURRENCY="lots" is not valid: expected an integer from 1 to 1024/);
    expect(stdout).toBe('');
  });

  it('--once with a missing list warns and exits 0', async () => {
    const { code, stdout } = await startDownloader({
      URL_FILE: path.join(dir, 'missing.txt'),
      OUTPUT_DIR: path.join(dir, 'missing-out'),
    }).done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/"level":"warn".*does not exist/);
  });

  it('without --once keeps polling a missing list (warning once), downloads it when it appears, and keeps a second downloader out', async () => {
    const out = path.join(dir, 'polling');
    const list = path.join(dir, 'polling.txt');
    const run = startDownloader({ URL_FILE: list, OUTPUT_DIR: out, POLL_SECONDS: '1' }, []);
    const waitFor = async (what: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 15_000;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${run.stdout()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor(
      () =>
        run
          .stdout()
          .split('\n')
          .filter((l) => l.includes('round started') || l.includes('does not exist')).length > 0,
    );
    await new Promise((r) => setTimeout(r, 2500));
    await writeFile(list, `${server.base}/a.jpg\n`);
    const file = path.join(out, `${stem(`${server.base}/a.jpg`)}.jpg`);
    await waitFor(() =>
      readFile(file).then(
        () => true,
        () => false,
      ),
    );
    // A second downloader on the same folder is refused while this one runs, and says who holds it.
    const second = await startDownloader({ URL_FILE: list, OUTPUT_DIR: out }).done;
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`another downloader (pid ${run.child.pid}) is already writing to ${out}`);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.done;
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((l) => l.includes('"level":"warn"') && l.includes('does not exist'))).toHaveLength(
      1,
    );
    expect(await readFile(file)).toEqual(pictures.jpeg);
  });

  it('--once downloads the list, exits 0 despite failures, and cleans temporary files left by a killed run', async () => {
    const out = path.join(dir, 'once');
    const list = path.join(dir, 'once.txt');
    const urls = [`${server.base}/a.jpg`, `${server.base}/b.png`, `${server.base}/gone`];
    await writeFile(list, `${urls.join('\n')}\nhttp://\n`);
    await rm(out, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(out, { recursive: true }));
    await writeFile(path.join(out, `.${stem(urls[0])}.tmp-999-deadbeef`), 'half a picture');
    const { code, stdout } = await startDownloader({ URL_FILE: list, OUTPUT_DIR: out }).done;
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['.downloader', `${stem(urls[0])}.jpg`, `${stem(urls[1])}.png`].sort());
    expect(await readFile(path.join(out, `${stem(urls[1])}.png`))).toEqual(pictures.png);
    expect(stdout).toMatch(/"staleTempsRemoved":1/);
    expect(stdout).toMatch(/invalid line.*line 4/);
    const summary = stdout.split('\n').find((l) => l.includes('round finished'));
    expect(JSON.parse(summary ?? '{}')).toMatchObject({ new: 2, failedTotal: 1, failed: { http_410: 1 } });
  });

  it('on SIGTERM takes no new URL, lets a nearly done download finish, and cuts the rest without a partial file', async () => {
    const out = path.join(dir, 'sigterm');
    const list = path.join(dir, 'sigterm.txt');
    const slow = ['/slow-finish', '/very-slow/1', '/very-slow/2', '/very-slow/3'].map((p) => `${server.base}${p}`);
    const queued = `${server.base}/a.jpg`;
    await writeFile(list, `${[...slow, queued].join('\n')}\n`);
    server.resetCounts();
    const run = startDownloader({ URL_FILE: list, OUTPUT_DIR: out, MAX_CONCURRENCY: '4' });
    const deadline = Date.now() + 20_000;
    while (server.count('/very-slow/3') === 0 || server.count('/slow-finish') === 0) {
      if (Date.now() > deadline) throw new Error(`downloader never started:\n${run.stdout()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.done;
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(8000);
    expect(stdout).toMatch(/stopping: no new downloads/);
    expect(server.count('/a.jpg')).toBe(0);
    const names = await readdir(out);
    expect(names.sort()).toEqual(['.downloader', `${stem(slow[0])}.jpg`].sort());
    expect(await readFile(path.join(out, `${stem(slow[0])}.jpg`))).toEqual(pictures.jpeg);
    expect((await readdir(path.join(out, '.downloader'))).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const records = (await readFile(path.join(out, '.downloader', 'records.jsonl'), 'utf8')).trim().split('\n');
    expect(records.map((l) => JSON.parse(l).url)).toEqual([slow[0]]);
  });

  it('goes through the proxy HTTP_PROXY names (with undici), and says so', async () => {
    // a forward proxy: CONNECT tunnels and absolute-form requests, each one counted
    let proxied = 0;
    const proxy = http.createServer((req, res) => {
      proxied++;
      const target = new URL(req.url ?? '');
      const upstream = http.get(target, { headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
    });
    proxy.on('connect', (req, client, head) => {
      proxied++;
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyUrl = `http://user:secret@127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
      const out = path.join(dir, 'proxied');
      const list = path.join(dir, 'proxied.txt');
      await writeFile(list, `${server.base}/b.png\n`);
      const { code, stdout } = await startDownloader({ URL_FILE: list, OUTPUT_DIR: out, HTTP_PROXY: proxyUrl }).done;
      expect(code).toBe(0);
      expect(await readFile(path.join(out, `${stem(`${server.base}/b.png`)}.png`))).toEqual(pictures.png);
      expect(proxied).toBeGreaterThan(0);
      const started = JSON.parse(stdout.split('\n').find((l) => l.includes('downloader started')) ?? '{}');
      expect(started.proxy).toBe(`HTTP_PROXY=http://***@127.0.0.1:${(proxy.address() as net.AddressInfo).port}`);
      expect(stdout).not.toContain('secret');
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
