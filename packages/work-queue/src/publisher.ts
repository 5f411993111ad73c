// Publishing "picture stored" with publisher confirms: publish() resolves once the broker has the message on disk
// (persistent, in a quorum queue) and rejects when there is no broker to take it, so the caller can say so.
import type { Logger } from '@image-search/log';
import type { ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { connectQueue } from './connection.ts';
import { encodeStoredPicture, type StoredPicture } from './message.ts';
import { declareQueues, explainDeclareError, type QueueSettings, queueNames } from './topology.ts';

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

export class PicturePublisher {
  private channel: ConfirmChannel | null = null;

  private constructor(
    private readonly s: QueueSettings,
    private conn: RecoveringChannelModel | null = null,
  ) {}

  /**
   * Waits up to waitMs for the broker, then returns either way: the connection is made (and remade after outages) in
   * the background, and publish() rejects while there is none.
   */
  static async open(s: QueueSettings, logger: Logger, waitMs = 5000): Promise<PicturePublisher> {
    const publisher = new PicturePublisher(s);
    publisher.conn = await connectQueue(s, logger, async (model) => {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => {}); // reported through the connection's events
      channel.on('close', () => {
        if (publisher.channel === channel) publisher.channel = null;
      });
      try {
        await declareQueues(channel, s);
      } catch (err) {
        logger.error({ queue: s.name, err: explainDeclareError(err, s) }, 'work queue: cannot declare the queues');
        throw err;
      }
      publisher.channel = channel;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      publisher.conn.waitForConnect().catch(() => {}),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
    return publisher;
  }

  /** Resolves once the broker confirmed the message; QueueUnavailableError when it cannot take it now. */
  publish(p: StoredPicture, timeoutMs = 10_000): Promise<void> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new QueueUnavailableError('not connected to the broker'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new QueueUnavailableError(`no confirmation within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (err: unknown) => {
        clearTimeout(timer);
        if (err) reject(new QueueUnavailableError(`the broker did not take the message: ${String(err)}`));
        else resolve();
      };
      try {
        channel.sendToQueue(
          queueNames(this.s.name).work,
          encodeStoredPicture(p),
          { persistent: true, contentType: 'application/json', messageId: p.contentId },
          done,
        );
      } catch (err) {
        done((err as Error).message);
      }
    });
  }

  async close(): Promise<void> {
    await this.conn?.close().catch(() => {});
  }
}
