// pnpm mq:start | mq:stop | mq:status [--port N] [--data-dir DIR]; the port defaults to MQ_PORT, flags win.
import { parseEnv } from '@image-search/config';
import { runServerCli, type ServerCliOptions } from '@image-search/process';
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

/** The URL without the default guest password, for people to read. */
const shown = (port: number) => `amqp://127.0.0.1:${port}`;

runServerCli<ServerCliOptions>({
  name: 'mq',
  what: 'RabbitMQ',
  someone: 'a broker',
  usage: 'usage: tsx packages/local-rabbitmq/src/cli.ts start|stop|status [--port N] [--data-dir DIR]',
  flags: [],
  // Distribution and epmd ports are the AMQP port + 30,000 and + 31,000 (portsFor): keep them under 65,536.
  options: (values, count) => ({ port: count('--port', values.port, parseEnv(localMqSpec).MQ_PORT, 30_000) }),
  isOwnError: (e) => e instanceof LocalMqError,
  instanceDirFor,
  shown: (o) => shown(o.port),
  runningPid,
  describe: async (o) => {
    const info = await describeRabbitMq(urlFor(o.port));
    return info ? `${info.product} ${info.version} on ${shown(o.port)}` : null;
  },
  start: async (o, seconds) => {
    const mq = await startLocalRabbitMq({ ...o, log: (line) => console.log(line) });
    const info = await describeRabbitMq(mq.url);
    if (!mq.startedByUs) {
      console.log(`${info?.product ?? 'RabbitMQ'} ${info?.version ?? '?'} is already running on ${shown(o.port)}`);
      return;
    }
    const { dist, epmd } = portsFor(o.port);
    console.log(
      `RabbitMQ ${info?.version ?? '?'} ready on ${shown(o.port)} in ${seconds()} s ` +
        `(distribution port ${dist}, epmd ${epmd}; log: ${logFileOf(o.dataDir ?? instanceDirFor(o.port))})`,
    );
  },
  stop: (o) => stopLocalRabbitMq(o),
});
