// pnpm es:start | es:stop | es:status [--port N] [--nodes N] [--heap 1g] [--data-dir DIR]
// Port and heap default to ES_PORT / ES_HEAP; flags win (tests use them to run a second instance).
import { parseEnv } from '@image-search/config';
import { runServerCli } from '@image-search/process';
import {
  describeElasticsearch,
  hostFor,
  instanceDirFor,
  LocalEsError,
  localEsSpec,
  logFileOf,
  runningPid,
  startLocalElasticsearch,
  stopLocalElasticsearch,
} from './index.ts';

interface Options {
  port: number;
  nodes: number;
  heap: string;
  dataDir?: string;
}

runServerCli<Options>({
  name: 'es',
  what: 'Elasticsearch',
  someone: 'an Elasticsearch',
  usage:
    'usage: tsx packages/local-elasticsearch/src/cli.ts start|stop|status [--port N] [--nodes N] [--heap 1g] [--data-dir DIR]',
  flags: ['nodes', 'heap'],
  options: (values, count) => {
    const env = parseEnv(localEsSpec);
    return {
      port: count('--port', values.port, env.ES_PORT, 65_000),
      nodes: count('--nodes', values.nodes, 1, 9),
      heap: values.heap ?? env.ES_HEAP,
    };
  },
  isOwnError: (e) => e instanceof LocalEsError,
  instanceDirFor,
  shown: (o) => hostFor(o.port),
  runningPid,
  describe: async (o) => {
    const info = await describeElasticsearch(hostFor(o.port));
    return info
      ? `Elasticsearch ${info.version} on ${hostFor(o.port)}: ${info.status}, ${info.nodes} node(s), cluster ${info.clusterName}`
      : null;
  },
  start: async (o, seconds) => {
    const es = await startLocalElasticsearch({ ...o, log: (line) => console.log(line) });
    const info = await describeElasticsearch(es.host);
    if (!es.startedByUs) {
      console.log(
        `Elasticsearch ${info?.version ?? '?'} is already running on ${es.host} (${info?.status ?? '?'}, ${info?.nodes ?? '?'} node(s))`,
      );
      return;
    }
    const dir = o.dataDir ?? instanceDirFor(o.port);
    const nodes = o.nodes > 1 ? `, ${o.nodes} nodes on ports ${o.port}-${o.port + o.nodes - 1}` : '';
    console.log(
      `Elasticsearch ${info?.version ?? '?'} ready on ${es.host} in ${seconds()} s${nodes} (log: ${logFileOf(dir)})`,
    );
  },
  stop: (o) => stopLocalElasticsearch(o),
});
