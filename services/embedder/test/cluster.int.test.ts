// The embedder against private Elasticsearch instances it may stop: an outage in the middle of a round, a cluster that
// is not up yet when it starts, and a 3-node cluster with one replica. Never touches the shared node.
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { type LocalEs, startLocalElasticsearch } from '@image-search/local-elasticsearch';
import { createLogger } from '@image-search/log';
import { createClient, indexInfo, knnSearch } from '@image-search/search-index';
import { afterAll, describe, expect, it } from 'vitest';
import { runEmbedder } from '../src/embedder.ts';
import { colourPicture, settingsFor, tinyModel, uniqueAlias, workDirs } from './fixtures.ts';

const running: LocalEs[] = [];
const roots: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const es of running) await es.stop();
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger('embedder-test', { level: 'warn', destination }), lines };
}

async function pictures(dir: string, n: number): Promise<Set<string>> {
  const colours = ['red', 'green', 'blue', 'yellow', 'purple', 'white'] as const;
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) {
    const data = await colourPicture(colours[i % colours.length], 1000 + i);
    ids.add(createHash('sha256').update(data).digest('hex'));
    await writeFile(path.join(dir, `${colours[i % colours.length]}-${i}.png`), data);
  }
  return ids;
}

describe('embedder and an Elasticsearch that comes and goes', () => {
  it('waits while Elasticsearch is stopped mid-round and resumes: every picture once', async () => {
    const dirs = await workDirs('outage');
    roots.push(dirs.root);
    const esOpts = { port: 9260, nodes: 1, heap: '512m', dataDir: path.join(dirs.root, 'es') };
    let es = await startLocalElasticsearch(esOpts);
    running.push(es);
    const ids = await pictures(dirs.images, 90);
    const model = await tinyModel();
    const { logger, lines } = capturingLogger();
    let batches = 0;
    let outage: Promise<void> | undefined;
    const slowed = {
      ...model,
      image: {
        embed: async (batch: Float32Array[]) => {
          if (++batches === 4) {
            // Down for certain before this batch goes to be written; back only once the embedder has noticed (the
            // client's own retries could otherwise outlast a short outage).
            await es.stop();
            outage = (async () => {
              while (!lines.some((l) => l.includes('Elasticsearch unavailable'))) await sleep(100);
              await sleep(1000);
              es = await startLocalElasticsearch(esOpts);
              running.push(es);
            })();
          }
          await sleep(30);
          return model.image.embed(batch);
        },
      },
    };
    const alias = uniqueAlias('outage');
    const [summary] = await runEmbedder(settingsFor(dirs, alias, { ES_HOST: es.host }), {
      logger,
      model: slowed,
      once: true,
    });
    await outage;
    expect(lines.some((l) => l.includes('Elasticsearch unavailable'))).toBe(true);
    expect(summary).toMatchObject({ complete: true, errors: 0, failed: 0 });
    const client = createClient({ ES_HOST: es.host });
    await client.indices.refresh({ index: alias });
    expect((await client.count({ index: alias })).count).toBe(ids.size);
    await client.close();
  });

  it('waits for a cluster that is not up yet, then indexes into 3 nodes with one replica', async () => {
    const dirs = await workDirs('three-nodes');
    roots.push(dirs.root);
    await pictures(dirs.images, 12);
    const esOpts = { port: 9280, nodes: 3, heap: '1g', dataDir: path.join(dirs.root, 'es') };
    const alias = uniqueAlias('three');
    const host = 'http://127.0.0.1:9280';
    const { logger } = capturingLogger();
    const run = runEmbedder(settingsFor(dirs, alias, { ES_HOST: host, ES_SHARDS: 2, ES_REPLICAS: 1 }), {
      logger,
      model: await tinyModel(),
      once: true,
    });
    await sleep(500);
    const es = await startLocalElasticsearch(esOpts);
    running.push(es);
    const [summary] = await run;
    expect(summary).toMatchObject({ embedded: 12, complete: true });

    const client = createClient({ ES_HOST: host });
    await client.cluster.health({ index: alias, wait_for_status: 'green', timeout: '60s' });
    await client.indices.refresh({ index: alias });
    const info = await indexInfo(client, alias);
    expect(info).toMatchObject({ docCount: 12, clusterStatus: 'green' });
    const shards = await client.cat.shards({ index: info.concreteIndex!, format: 'json' });
    // Two primaries and their replicas, each replica on another node than its primary (relocation may still run).
    expect(shards.filter((s) => s.state === 'STARTED' || s.state === 'RELOCATING')).toHaveLength(4);
    for (const n of ['0', '1']) {
      const copies = shards.filter((s) => s.shard === n).map((s) => s.node?.split(' ')[0]);
      expect(new Set(copies).size).toBe(2);
    }
    const [red] = await (await tinyModel()).text.embed(['red']);
    const hits = await knnSearch(client, alias, { vector: red, k: 2, numCandidates: 20 });
    expect(hits.every((h) => h.doc.path.startsWith('red-'))).toBe(true);
    await client.close();
  });
});
