// pnpm mq:start | mq:stop | mq:status [--port N] [--data-dir DIR]; the port defaults to MQ_PORT, flags win.
import { parseArgs } from 'node:util';
import { parseEnv } from '@image-search/config';
import {
  describeRabbitMq,
  instanceDirFor,
  LocalMqError,
  localMqSpec,
  logFileOf,
  portsFor,
  runningPid,
  startLocalRabbitMq,
  stopLocalRabbitMq,
  urlFor,
} from './index.ts';

const EXIT_NOT_RUNNING = 3;

interface Options {
  command: string;
  port: number;
  dataDir?: string;
}

function readArgs(argv: string[]): Options {
  const env = parseEnv(localMqSpec);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new LocalMqError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new LocalMqError(`unknown argument ${positionals[1]}`);
  let port = env.MQ_PORT;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 30_000)
      throw new LocalMqError(`--port ${values.port}: expected 1..30000`);
  }
  return { command: positionals[0] ?? '', port, dataDir: values['data-dir'] };
}

const parse = (args: string[]) =>
  parseArgs({
    args,
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' } },
    allowPositionals: true,
  });

/** The URL without the default guest password, for people to read. */
const shown = (port: number) => `amqp://127.0.0.1:${port}`;

async function start(o: Options): Promise<number> {
  const t0 = performance.now();
  const mq = await startLocalRabbitMq({ port: o.port, dataDir: o.dataDir, log: (line) => console.log(line) });
  const info = await describeRabbitMq(mq.url);
  if (!mq.startedByUs) {
    console.log(`${info?.product ?? 'RabbitMQ'} ${info?.version ?? '?'} is already running on ${shown(o.port)}`);
    return 0;
  }
  const { dist, epmd } = portsFor(o.port);
  console.log(
    `RabbitMQ ${info?.version ?? '?'} ready on ${shown(o.port)} in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(distribution port ${dist}, epmd ${epmd}; log: ${logFileOf(o.dataDir ?? instanceDirFor(o.port))})`,
  );
  return 0;
}

async function stop(o: Options): Promise<number> {
  const t0 = performance.now();
  if ((await stopLocalRabbitMq({ port: o.port, dataDir: o.dataDir })) === 'stopped') {
    console.log(`RabbitMQ on ${shown(o.port)} stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (await describeRabbitMq(urlFor(o.port))) {
    console.error(
      `a broker answers on ${shown(o.port)} but was not started by pnpm mq:start here (no pid file in ${o.dataDir ?? instanceDirFor(o.port)}); not stopping it`,
    );
    return 1;
  }
  console.log(`RabbitMQ is not running on ${shown(o.port)}`);
  return 0;
}

async function status(o: Options): Promise<number> {
  const info = await describeRabbitMq(urlFor(o.port));
  const pid = await runningPid(o.dataDir ?? instanceDirFor(o.port));
  if (!info) {
    console.log(
      pid
        ? `RabbitMQ (pid ${pid}) is starting but does not answer on ${shown(o.port)} yet`
        : `not running (${shown(o.port)})`,
    );
    return EXIT_NOT_RUNNING;
  }
  const owner = pid ? `pid ${pid}, started by pnpm mq:start` : 'not started by pnpm mq:start here';
  console.log(`${info.product} ${info.version} on ${shown(o.port)} (${owner})`);
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
      console.error('usage: tsx packages/local-rabbitmq/src/cli.ts start|stop|status [--port N] [--data-dir DIR]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof LocalMqError || (e instanceof Error && e.name === 'ConfigError'))
      console.error(`mq: ${e.message}`);
    else console.error(e);
    process.exit(1);
  },
);
