// Consuming in batches: one batch of prefetch per batch in flight, a batch handed over when full (or after a short
// linger), each message acked only after the handler settled it, so a worker killed at any moment leaves its messages
// to be redelivered. Two batches in flight let the next one be read and decoded while the model embeds this one, as
// the folder scan's pipeline does; one would leave the model waiting on every batch's decoding and bulk write.
// A picture that failed on its QUEUE_MAX_ATTEMPTS-th delivery goes to <name>.failed with its reason (published with a
// confirm before the ack: it is never lost between the two).
import type { Logger } from '@image-search/log';
import type { ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { connectQueue } from './connection.ts';
import { decodeStoredPicture, type StoredPicture } from './message.ts';
import { declareQueues, explainDeclareError, type QueueNames, type QueueSettings } from './topology.ts';

/** What became of one picture: indexed (or nothing to do), or failed with a reason a person can read. */
export type PictureOutcome = { status: 'done' } | { status: 'failed'; reason: string };

export interface Delivered {
  picture: StoredPicture;
  /** 1 on the first delivery. */
  attempt: number;
}

export interface BatchConsumerOptions {
  batchSize: number;
  /** How long a partial batch waits for more messages (default 200 ms). */
  lingerMs?: number;
  /** Batches handled at once (default 2); the prefetch is batchSize × this. */
  batchesInFlight?: number;
  logger: Logger;
  /** One outcome per delivered picture, in order; throwing leaves the whole batch to be redelivered. */
  handle(batch: Delivered[]): Promise<PictureOutcome[]>;
}

export interface BatchConsumer {
  close(): Promise<void>;
}

function attemptOf(msg: ConsumeMessage): number {
  const count = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
  return (Number.isFinite(count) ? count : 0) + 1;
}

export async function consumeBatches(s: QueueSettings, o: BatchConsumerOptions): Promise<BatchConsumer> {
  const { logger } = o;
  const lingerMs = o.lingerMs ?? 200;
  const prefetch = o.batchSize * (o.batchesInFlight ?? 2);
  const conn: RecoveringChannelModel = await connectQueue(s, logger, async (model) => {
    const channel = await model.createConfirmChannel();
    channel.on('error', () => {}); // reported through the connection's events
    let names: QueueNames;
    try {
      names = await declareQueues(channel, s);
    } catch (err) {
      logger.error({ queue: s.name, err: explainDeclareError(err, s) }, 'work queue: cannot declare the queues');
      throw err;
    }
    await channel.prefetch(prefetch);
    // Everything below belongs to this channel: a message is acked on the channel that delivered it or not at all.
    let pending: ConsumeMessage[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      const batch = pending;
      pending = [];
      // The prefetch bounds how many batches run at once: the broker sends no more until some are acked.
      if (batch.length > 0) void settleBatch(channel, names, batch, s, o);
    };
    await channel.consume(names.work, (msg) => {
      if (!msg) {
        logger.warn({ queue: s.name }, 'work queue: the broker cancelled our consumer (queue deleted?)');
        return;
      }
      pending.push(msg);
      if (pending.length >= o.batchSize) flush();
      else timer ??= setTimeout(flush, lingerMs);
    });
    channel.on('close', () => {
      clearTimeout(timer);
      pending = [];
    });
  });
  await conn.waitForConnect();
  return { close: () => conn.close().catch(() => {}) };
}

async function settleBatch(
  channel: ConfirmChannel,
  names: QueueNames,
  messages: ConsumeMessage[],
  s: QueueSettings,
  o: BatchConsumerOptions,
): Promise<void> {
  const { logger } = o;
  const batch: Array<{ msg: ConsumeMessage; delivered: Delivered }> = [];
  try {
    for (const msg of messages) {
      const decoded = decodeStoredPicture(msg.content);
      if ('error' in decoded) {
        logger.warn({ reason: decoded.error }, 'work queue: moved an unreadable message to the dead-letter queue');
        await toFailed(channel, names, msg, decoded.error, attemptOf(msg));
      } else batch.push({ msg, delivered: { picture: decoded.picture, attempt: attemptOf(msg) } });
    }
    if (batch.length === 0) return;
    let outcomes: PictureOutcome[];
    try {
      outcomes = await o.handle(batch.map((b) => b.delivered));
    } catch (err) {
      logger.error({ err, pictures: batch.length }, 'work queue: batch failed; it will be delivered again');
      for (const { msg } of batch) channel.nack(msg, false, true);
      return;
    }
    for (const [i, { msg, delivered }] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome.status === 'done') channel.ack(msg);
      else if (delivered.attempt >= s.maxAttempts) {
        await toFailed(channel, names, msg, outcome.reason, delivered.attempt);
        logger.warn(
          { file: delivered.picture.file, attempts: delivered.attempt, reason: outcome.reason },
          'work queue: picture failed on every attempt; moved to the dead-letter queue',
        );
      } else channel.nack(msg, false, true);
    }
  } catch (err) {
    // The channel closed under us (broker restart): the broker redelivers every unacked message of this batch, and
    // ids are content hashes, so writing them again duplicates nothing.
    logger.warn({ err: (err as Error).message, pictures: messages.length }, 'work queue: lost the channel mid-batch');
  }
}

async function toFailed(
  channel: ConfirmChannel,
  names: QueueNames,
  msg: ConsumeMessage,
  reason: string,
  attempts: number,
): Promise<void> {
  channel.sendToQueue(names.failed, msg.content, {
    persistent: true,
    contentType: msg.properties.contentType,
    messageId: msg.properties.messageId,
    headers: { 'x-failure-reason': reason, 'x-attempts': attempts },
  });
  await channel.waitForConfirms();
  channel.ack(msg);
}
