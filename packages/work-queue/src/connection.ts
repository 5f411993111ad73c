// One AMQP connection that comes back by itself: amqplib's recovery reconnects with backoff after a broker restart
// and runs `setup` on every new connection, where the channels (which die with their connection) are made again.
import type { Logger } from '@image-search/log';
import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { QueueSettings } from './topology.ts';

/** Passwords stay out of logs. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export async function connectQueue(
  s: QueueSettings,
  logger: Logger,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<RecoveringChannelModel> {
  const conn = await amqp.connect(s.url, {
    recovery: { initialDelay: 200, maxDelay: 5000, waitForConnect: false, setup },
  });
  const queue = { url: safeUrl(s.url), queue: s.name };
  let down = false;
  conn.on('connect', () => {
    if (down) logger.info(queue, 'work queue: connected again');
    else logger.info(queue, 'work queue: connected');
    down = false;
  });
  conn.on('disconnect', (err: Error) => {
    down = true;
    logger.warn({ ...queue, err: err?.message }, 'work queue: connection lost; reconnecting');
  });
  conn.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
    if (info.attempt === 1 || info.attempt % 10 === 0)
      logger.warn({ ...queue, attempt: info.attempt, err: info.error?.message }, 'work queue: broker unreachable');
  });
  conn.on('error', (err: Error) => logger.warn({ ...queue, err: err.message }, 'work queue: connection error'));
  return conn;
}
