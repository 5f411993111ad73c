// A real local RabbitMQ (Debian's rabbitmq-server) for pnpm mq:start|stop|status, tests and benchmarks. See README.md.
export {
  type LocalMq,
  type LocalMqOptions,
  logFileOf,
  RABBITMQ_SERVER,
  runningPid,
  startLocalRabbitMq,
  stopLocalRabbitMq,
} from './instance.ts';
export { describeRabbitMq, isRabbitMqUp, type MqSummary } from './probe.ts';
export { instanceDirFor, LocalMqError, localMqSpec, portsFor, urlFor } from './settings.ts';
