// Where local brokers live, their ports, what they default to, and the one error type the CLI prints as a message.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { int } from '@image-search/config';

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(packageDir, '../..');
/** Start locks and one folder per broker. */
export const mqHome = path.join(repoRoot, '.mq');

export const DEFAULT_PORT = 5672;

/** Environment of pnpm mq:start and of the test global setup (QUEUE_URL itself belongs to the services' specs). */
export const localMqSpec = {
  MQ_PORT: int(DEFAULT_PORT, { min: 1, max: 30_000 }),
};

/** A problem the person starting RabbitMQ can act on; the CLI prints only its message. */
export class LocalMqError extends Error {}

/**
 * The ports of the broker whose AMQP port is `port`. Erlang distribution and its port mapper (epmd) get ports of
 * their own, far from RabbitMQ's defaults (25672, 4369), so a system broker on the same machine never collides.
 */
export function portsFor(port: number): { amqp: number; dist: number; epmd: number } {
  return { amqp: port, dist: port + 30_000, epmd: port + 31_000 };
}

export function urlFor(port: number): string {
  return `amqp://guest:guest@127.0.0.1:${port}`;
}

export function instanceDirFor(port: number): string {
  return path.join(mqHome, `port-${port}`);
}

/** The Erlang node name, unique per port so two local brokers never share one. */
export function nodeNameFor(port: number): string {
  return `image-search-${port}@localhost`;
}
