// pnpm es:start | es:stop | es:status [--port N] [--nodes N] [--heap 1g] [--data-dir DIR]
// Port and heap default to ES_PORT / ES_HEAP; flags win (tests use them to run a second instance).
import { parseArgs } from 'node:util';
import { parseEnv } from '@image-search/config';
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

const EXIT_NOT_RUNNING = 3;

interface Options {
  command: string;
  port: number;
  nodes: number;
  heap: string;
  dataDir?: string;
}

function readArgs(argv: string[]): Options {
  const env = parseEnv(localEsSpec);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new LocalEsError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new LocalEsError(`unknown argument ${positionals[1]}`);
  const count = (name: string, v: string | undefined, fallback: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new LocalEsError(`${name} ${v}: expected 1..${max}`);
    return n;
  };
  return {
    command: positionals[0] ?? '',
    port: count('--port', values.port, env.ES_PORT, 65_000),
    nodes: count('--nodes', values.nodes, 1, 9),
    heap: values.heap ?? env.ES_HEAP,
    dataDir: values['data-dir'],
  };
}

const parse = (args: string[]) =>
  parseArgs({
    args,
    options: {
      port: { type: 'string' },
      nodes: { type: 'string' },
      heap: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    allowPositionals: true,
  });

async function start(o: Options): Promise<number> {
  const t0 = performance.now();
  const es = await startLocalElasticsearch({
    port: o.port,
    nodes: o.nodes,
    heap: o.heap,
    dataDir: o.dataDir,
    log: (line) => console.log(line),
  });
  const info = await describeElasticsearch(es.host);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (!es.startedByUs) {
    console.log(
      `Elasticsearch ${info?.version ?? '?'} is already running on ${es.host} (${info?.status ?? '?'}, ${info?.nodes ?? '?'} node(s))`,
    );
    return 0;
  }
  const dir = o.dataDir ?? instanceDirFor(o.port);
  const nodes = o.nodes > 1 ? `, ${o.nodes} nodes on ports ${o.port}-${o.port + o.nodes - 1}` : '';
  console.log(
    `Elasticsearch ${info?.version ?? '?'} ready on ${es.host} in ${seconds} s${nodes} (log: ${logFileOf(dir)})`,
  );
  return 0;
}

async function stop(o: Options): Promise<number> {
  const t0 = performance.now();
  const result = await stopLocalElasticsearch({ port: o.port, dataDir: o.dataDir });
  if (result === 'stopped') {
    console.log(`Elasticsearch on ${hostFor(o.port)} stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (await describeElasticsearch(hostFor(o.port))) {
    console.error(
      `an Elasticsearch answers on ${hostFor(o.port)} but was not started by pnpm es:start here (no pid file in ${o.dataDir ?? instanceDirFor(o.port)}); not stopping it`,
    );
    return 1;
  }
  console.log(`Elasticsearch is not running on ${hostFor(o.port)}`);
  return 0;
}

async function status(o: Options): Promise<number> {
  const host = hostFor(o.port);
  const info = await describeElasticsearch(host);
  const pid = await runningPid(o.dataDir ?? instanceDirFor(o.port));
  if (!info) {
    console.log(
      pid ? `Elasticsearch (pid ${pid}) is starting but does not answer on ${host} yet` : `not running (${host})`,
    );
    return EXIT_NOT_RUNNING;
  }
  const owner = pid ? `pid ${pid}, started by pnpm es:start` : 'not started by pnpm es:start here';
  console.log(
    `Elasticsearch ${info.version} on ${host}: ${info.status}, ${info.nodes} node(s), cluster ${info.clusterName} (${owner})`,
  );
  return 0;
}

async function main(): Promise<number> {
  const o = readArgs(process.argv.slice(2));
  switch (o.command) {
    case 'start':
      return start(o);
    case 'stop':
      return stop(o);
    case 'status':
      return status(o);
    default:
      console.error(
        'usage: tsx packages/local-elasticsearch/src/cli.ts start|stop|status [--port N] [--nodes N] [--heap 1g] [--data-dir DIR]',
      );
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof LocalEsError || (e instanceof Error && e.name === 'ConfigError')) {
      console.error(`es: ${e.message}`);
    } else {
      console.error(e);
    }
    process.exit(1);
  },
);
