// A model switch with the services running, as a user makes it: an embedder with model A fills the index and
// search-api serves it; the embedder is restarted with model B and fills B's index beside it while searches go on.
// Every search succeeds, each is answered with the vectors of the index it names (its top score is the query vector of
// that index's model against the hit's stored vector), /meta says "re-indexing for B", and at the end B serves.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClipModel, ensureSyntheticModel, loadModel, makeSyntheticModel } from '@image-search/clip';
import { createClient, getVector } from '@image-search/search-index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourPicture, repoRoot } from '../services/embedder/test/fixtures.ts';
import { freePort } from './free-port.ts';

const ES_HOST = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
const PICTURES = 24;
const COLOURS = ['red', 'green', 'blue', 'yellow'] as const;
const es = createClient({ ES_HOST });
const alias = `switch-${process.pid}-${Date.now().toString(36)}`;
const children: ChildProcess[] = [];
let work: string;

function start(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'WARN', DEVICE: 'cpu', MODEL_THREADS: '1', ES_HOST, ES_INDEX: alias, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function until<T>(what: string, look: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await look().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Meta {
  model_name: string;
  doc_count: number;
  concrete_index: string;
  reindexing: { model: string; done: number; total: number } | null;
}

interface Answer {
  at: number;
  status: number;
  index: string | null;
  top?: { id: string; score: number };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'model-switch-'));
  await mkdir(path.join(work, 'images'));
  for (let i = 0; i < PICTURES; i++) {
    await writeFile(path.join(work, 'images', `p${i}.png`), await colourPicture(COLOURS[i % COLOURS.length], i));
  }
});

afterAll(async () => {
  for (const c of children) await stop(c);
  const names = Object.keys(await es.indices.get({ index: `${alias}-*`, ignore_unavailable: true }));
  if (names.length > 0) await es.indices.delete({ index: names });
  await es.close();
  await rm(work, { recursive: true, force: true });
});

describe('changing MODEL while the stack runs', () => {
  it('answers every search during the switch, each from the index whose model embedded it, then serves B', async () => {
    const modelA = await ensureSyntheticModel('tiny', path.join(os.tmpdir(), 'image-search-models', 'tiny'));
    const modelB = path.join(work, 'models', 'synthetic-tiny-seed99');
    await makeSyntheticModel('tiny', modelB, { seed: 99 });
    const folders = {
      IMAGES_DIR: path.join(work, 'images'),
      THUMBNAILS_DIR: path.join(work, 'thumbnails'),
      STATE_DIR: path.join(work, 'state'),
      POLL_SECONDS: '1',
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const meta = () => fetch(`${base}/meta`).then((r) => (r.ok ? (r.json() as Promise<Meta>) : undefined));

    let embedder = start('services/embedder/src/main.ts', { ...folders, MODEL_DIR: modelA, BATCH_SIZE: '8' });
    // The API is told of no model: it serves with the one each index records.
    start('services/search-api/src/main.ts', {
      ...folders,
      MODELS_DIR: path.join(work, 'none'),
      API_PORT: String(port),
    });
    const before = await until('A serving every picture', async () => {
      const m = await meta();
      return m?.doc_count === PICTURES ? m : undefined;
    });
    expect(before.model_name).toBe('synthetic-tiny/seed1234');

    const answers: Answer[] = [];
    const reindexing: Array<{ model: string; done: number; total: number }> = [];
    let searching = true;
    const searches = (async () => {
      while (searching) {
        const res = await fetch(`${base}/search/text?q=red&k=1`);
        const body = (await res.json()) as Array<{ id: string; score: number }>;
        answers.push({
          at: performance.now(),
          status: res.status,
          index: res.headers.get('x-search-index'),
          top: body[0],
        });
      }
    })();
    const looks = (async () => {
      while (searching) {
        const m = await meta();
        if (m?.reindexing) reindexing.push(m.reindexing);
        await sleep(50);
      }
    })();

    await sleep(300);
    const switchedAt = performance.now();
    await stop(embedder);
    // Small batches keep B's index filling for a while, long enough to be seen doing so.
    embedder = start('services/embedder/src/main.ts', { ...folders, MODEL_DIR: modelB, BATCH_SIZE: '1' });
    const after = await until('B serving', async () => {
      const m = await meta();
      return m?.model_name === 'synthetic-tiny/seed99' ? m : undefined;
    });
    await sleep(500);
    searching = false;
    await Promise.all([searches, looks]);

    expect(after.doc_count).toBe(PICTURES);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const indices = [...new Set(answers.map((a) => a.index))];
    expect(indices).toEqual([before.concrete_index, after.concrete_index]);
    expect(answers.at(-1)?.index).toBe(after.concrete_index);
    expect(reindexing.length).toBeGreaterThan(0);
    expect(reindexing[0]).toMatchObject({ model: 'synthetic-tiny/seed99', total: PICTURES });

    // Each answer's score is (1 + q·v) / 2 with q the query vector of its index's model and v the stored vector.
    const models = new Map<string, ClipModel>([
      [before.concrete_index, await loadModel(modelA, { device: 'cpu', threads: 1 })],
      [after.concrete_index, await loadModel(modelB, { device: 'cpu', threads: 1 })],
    ]);
    for (const index of indices as string[]) {
      const [q] = await models.get(index)!.text.embed(['red']);
      const norm = Math.hypot(...q);
      const stored = new Map<string, number[]>();
      for (const a of answers.filter((x) => x.index === index)) {
        const id = a.top!.id;
        if (!stored.has(id)) stored.set(id, (await getVector(es, index, id))!);
        const v = stored.get(id)!;
        const dot = v.reduce((sum, x, i) => sum + x * (q[i] / norm), 0);
        expect(a.top!.score).toBeCloseTo((1 + dot) / 2, 5);
      }
    }
    for (const m of models.values()) await m.close();

    const during = answers.filter((a) => a.at >= switchedAt);
    const gaps = during.slice(1).map((a, i) => a.at - during[i].at);
    console.log(
      `model switch: ${during.length} searches, 0 failed, longest gap between answers ${Math.round(Math.max(...gaps))} ms`,
    );
  });
});
