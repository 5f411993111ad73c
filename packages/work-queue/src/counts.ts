// How many pictures wait in the queue and how many failed, from the broker itself (AMQP's queue.declare-ok message
// counts, no management plugin needed). Ready messages only: those a worker holds unacked count as neither.
import type { Logger } from '@image-search/log';
import type { RecoveringChannelModel } from 'amqplib';
import { connectQueue } from './connection.ts';
import { type QueueSettings, queueNames } from './topology.ts';

export interface QueueCounts {
  queued: number;
  failed: number;
}

export class QueueCounter {
  private constructor(
    private readonly s: QueueSettings,
    private readonly conn: RecoveringChannelModel,
  ) {}

  static async open(s: QueueSettings, logger: Logger): Promise<QueueCounter> {
    return new QueueCounter(s, await connectQueue(s, logger, async () => {}));
  }

  /** null while the broker is unreachable (no answer within timeoutMs) or the queues are not declared yet. */
  async counts(timeoutMs = 1000): Promise<QueueCounts | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([this.ask(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async ask(): Promise<QueueCounts | null> {
    const names = queueNames(this.s.name);
    try {
      // A fresh channel each time: asking about a queue that does not exist closes the channel it was asked on.
      const channel = await this.conn.createChannel();
      channel.on('error', () => {});
      try {
        const work = await channel.checkQueue(names.work);
        const failed = await channel.checkQueue(names.failed);
        return { queued: work.messageCount, failed: failed.messageCount };
      } finally {
        await channel.close().catch(() => {});
      }
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {});
  }
}
