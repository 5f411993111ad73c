// pnpm es:start | es:stop | es:status [--port N] [--nodes N] [--heap 1g] [--data-dir DIR]
// Port and heap default to ES_PORT / ES_HEAP; flags win (tests use them to run a second instance).
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

function parseArgs(argv: string[]): Options {
  const env = parseEnv(localEsSpec);
  const opts: Options = { command: '', port: env.ES_PORT, nodes: 1, heap: env.ES_HEAP };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new LocalEsError(`${arg} needs a value`);
      return v;
    };
    const count = (name: string, v: string, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > max) throw new LocalEsError(`${name} ${v}: expected 1..${max}`);
      return n;
    };
    if (arg === '--port') opts.port = count('--port', value(), 65_000);
    else if (arg === '--nodes') opts.nodes = count('--nodes', value(), 9);
    else if (arg === '--heap') opts.heap = value();
    else if (arg === '--data-dir') opts.dataDir = value();
    else if (!opts.command && !arg.startsWith('-')) opts.command = arg;
    else throw new LocalEsError(`unknown argument ${arg}`);
  }
  return opts;
}

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
  const o = parseArgs(process.argv.slice(2));
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
