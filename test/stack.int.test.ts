// `pnpm stack` as a user runs it: a URL list of generated colour pictures served from loopback, a search for "red"
// through the UI port finds them (red first), and Ctrl-C (SIGINT to its process group, as a terminal sends it)
// leaves nothing running. It runs with API_KEYS and UI_BASIC_AUTH set, and scrapes every service's /metrics after the
// work: the counters match what was done, and the Grafana dashboard asks only for names the services really export.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardMetricNames, offeredNames } from './dashboard.ts';
import { freePort } from './free-port.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const esHost = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 170, 50],
  blue: [30, 50, 220],
  yellow: [235, 215, 30],
};
const API_KEY = 'stack-test-key-0123456789';
const LOGIN = 'tester:stack pass';
const asUser = { authorization: `Basic ${Buffer.from(LOGIN).toString('base64')}` };

/** The value of one series in a /metrics text (0 when it is not there yet). */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Processes whose environment carries this run's DATA_DIR: everything the stack started, at any depth. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('pnpm stack', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'image-search-stack-'));
  const dataDir = path.join(work, 'data');
  const index = `test-stack-${Math.random().toString(36).slice(2, 10)}`;
  let pictures: http.Server;
  let stack: ChildProcess | undefined;
  let output = '';
  let apiPort = 0;
  let uiPort = 0;

  beforeAll(async () => {
    const files = new Map<string, Buffer>();
    for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
      files.set(
        `/${name}.png`,
        await sharp({ create: { width: 80, height: 60, channels: 3, background: { r, g, b } } })
          .png()
          .toBuffer(),
      );
    }
    pictures = http.createServer((req, res) => {
      const body = files.get(req.url ?? '');
      res.writeHead(body ? 200 : 404, { 'content-type': body ? 'image/png' : 'text/plain' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => pictures.listen(0, '127.0.0.1', resolve));
    const { port } = pictures.address() as net.AddressInfo;
    writeFileSync(
      path.join(work, 'urls.txt'),
      `# test pictures\n${Object.keys(COLOURS)
        .map((c) => `http://127.0.0.1:${port}/${c}.png`)
        .join('\n')}\n`,
    );
    apiPort = await freePort();
    uiPort = await freePort();
  });

  afterAll(async () => {
    // Only when the test failed half-way: nothing of this run may outlive it.
    const leftovers = processesWith(`DATA_DIR=${dataDir}`);
    for (const pid of leftovers) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => pictures?.close(resolve));
    const res = await fetch(`${esHost}/_cat/indices/${index}*?format=json`).catch(() => null);
    const indices = res?.ok ? ((await res.json()) as Array<{ index: string }>) : [];
    for (const { index: name } of indices) await fetch(`${esHost}/${name}`, { method: 'DELETE' });
    rmSync(work, { recursive: true, force: true });
  });

  it('serves a search for the listed pictures through the UI port, and Ctrl-C stops everything', async () => {
    stack = spawn('pnpm', ['stack'], {
      cwd: root,
      detached: true, // its own process group, which SIGINT is sent to below, as a terminal's Ctrl-C is
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        URL_FILE: path.join(work, 'urls.txt'),
        ES_HOST: esHost,
        ES_INDEX: index,
        API_PORT: String(apiPort),
        UI_PORT: String(uiPort),
        POLL_SECONDS: '1',
        MODEL_DIR: '',
        API_KEYS: API_KEY,
        UI_BASIC_AUTH: LOGIN,
      },
    });
    stack.stdout?.on('data', (d) => {
      output += d;
    });
    stack.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<void>((resolve) => stack?.once('exit', () => resolve()));

    type Hit = { source_url: string; score: number; thumbnail_url: string | null };
    let hits: Hit[] = [];
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline && stack.exitCode === null) {
      const res = await fetch(`http://127.0.0.1:${uiPort}/api/search/text?q=red&k=4`, { headers: asUser }).catch(
        () => null,
      );
      if (res?.ok) {
        hits = (await res.json()) as Hit[];
        if (hits.length === 4) break;
      }
      await sleep(500);
    }
    expect(hits.length, `no search answer with 4 pictures; stack output:\n${output.slice(-4000)}`).toBe(4);
    expect(hits[0].source_url).toMatch(/\/red\.png$/);
    expect(new Set(hits.map((h) => path.basename(h.source_url)))).toEqual(
      new Set(Object.keys(COLOURS).map((c) => `${c}.png`)),
    );
    // The stack looks at /readyz every 500 ms: it may say so a moment after the first search works.
    const saysReady = Date.now() + 30_000;
    while (!/ready: open/.test(output) && Date.now() < saysReady) await sleep(200);
    expect(output).toMatch(/ready: open http:\/\/localhost:\d+/);
    expect(output).toMatch(/TINY SYNTHETIC/);
    // Readable lines, not JSON: "[search-api]  12:00:01.234 INFO: model loaded and warmed up {…}".
    expect(output).toMatch(/\[search-api\]\s+\S+ INFO: model loaded and warmed up \{/);
    expect(output).not.toMatch(/"level":"info"/);

    await checkAccessAndMetrics(hits);

    const pids = [...output.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((m) => Number(m[2]));
    expect(pids).toHaveLength(4);
    const everything = processesWith(`DATA_DIR=${dataDir}`);
    expect(everything.length).toBeGreaterThanOrEqual(5);

    process.kill(-(stack.pid as number), 'SIGINT');
    await Promise.race([exited, sleep(40_000)]);
    expect(stack.exitCode ?? stack.signalCode, 'pnpm stack did not exit within 40 s of SIGINT').not.toBeNull();
    expect(output).toMatch(/\[stack\] stopped/);
    expect(pids.filter(alive), 'services still running').toEqual([]);
    expect(processesWith(`DATA_DIR=${dataDir}`), 'processes of this stack still running').toEqual([]);
    expect(await portOpen(apiPort), `API port ${apiPort} still open`).toBe(false);
    expect(await portOpen(uiPort), `UI port ${uiPort} still open`).toBe(false);
  });

  async function checkAccessAndMetrics(hits: Array<{ thumbnail_url: string | null }>) {
    const api = `http://127.0.0.1:${apiPort}`;
    const ui = `http://127.0.0.1:${uiPort}`;
    // The API wants its key; the page's thumbnails load through the UI's proxy, which sends it.
    expect((await fetch(`${api}/search/text?q=red`)).status).toBe(401);
    expect((await fetch(`${api}/search/text?q=red`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${ui}/api/search/text?q=red`)).status).toBe(401);
    const thumbnail = await fetch(`${ui}/api${hits[0].thumbnail_url}`, { headers: asUser });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toMatch(/^image\//);

    const ports =
      /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics \(downloader\), http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(output);
    expect(ports, 'the stack names the metrics ports').not.toBeNull();
    const scrape = async (base: string) => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status, `${base}/metrics`).toBe(200);
      return res.text();
    };
    const [downloader, embedder, searchApi, page] = await Promise.all([
      scrape(`http://127.0.0.1:${ports?.[1]}`),
      scrape(`http://127.0.0.1:${ports?.[2]}`),
      scrape(api),
      scrape(ui),
    ]);
    const pictures = Object.keys(COLOURS).length;
    expect(seriesValue(downloader, 'downloader_pictures_downloaded_total')).toBe(pictures);
    expect(seriesValue(embedder, 'embedder_pictures_embedded_total')).toBe(pictures);
    expect(seriesValue(embedder, 'embedder_pictures_in_folder')).toBe(pictures);
    expect(seriesValue(embedder, 'embedder_round_duration_seconds_count')).toBeGreaterThan(0);
    expect(
      seriesValue(searchApi, 'http_request_duration_seconds_count{route="/search/text",method="GET",status="200"}'),
    ).toBeGreaterThan(0);
    expect(
      seriesValue(searchApi, 'http_request_duration_seconds_count{route="/search/text",method="GET",status="401"}'),
    ).toBe(1);
    expect(seriesValue(searchApi, 'search_query_cache_lookups_total{result="hit"}')).toBeGreaterThan(0);
    expect(
      seriesValue(page, 'http_request_duration_seconds_count{route="/api",method="GET",status="200"}'),
    ).toBeGreaterThan(0);
    const offered = new Set([downloader, embedder, searchApi, page].flatMap((text) => [...offeredNames(text)]));
    expect([...dashboardMetricNames()].filter((name) => !offered.has(name))).toEqual([]);
  }
});
