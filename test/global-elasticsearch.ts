// vitest globalSetup for the integration project: reuse the Elasticsearch at ES_HOST when it answers, otherwise start
// the local node on that port (pnpm es:start's code) and stop it after the run. Test files read process.env.ES_HOST.
import { parseEnv } from '@image-search/config';
import {
  isElasticsearchUp,
  type LocalEs,
  localEsSpec,
  startLocalElasticsearch,
} from '@image-search/local-elasticsearch';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    esHost: string;
  }
}

let local: LocalEs | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const host = (process.env.ES_HOST ?? 'http://127.0.0.1:9200').replace(/\/+$/, '');
  if (await isElasticsearchUp(host)) {
    console.log(`[elasticsearch] reusing ${host}`);
  } else {
    const url = new URL(host);
    if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
      throw new Error(`ES_HOST=${host} does not answer, and a local node can only be started on 127.0.0.1`);
    }
    const t0 = performance.now();
    local = await startLocalElasticsearch({
      port: Number(url.port || 9200),
      heap: parseEnv(localEsSpec).ES_HEAP,
      log: (line) => console.log(`[elasticsearch] ${line}`),
    });
    const how = local.startedByUs ? 'started' : 'found';
    console.log(
      `[elasticsearch] ${how} a local node on ${local.host} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  process.env.ES_HOST = host;
  project.provide('esHost', host);
  return async () => {
    await local?.stop();
  };
}
