// The queues behind QUEUE_NAME, declared the same way by everyone who touches them (declaring is idempotent, and a
// publisher that declares keeps messages sent before the first embedder starts).
//   <name>         quorum queue: survives broker restarts, counts deliveries (x-delivery-count), and dead-letters a
//                  message redelivered more than QUEUE_MAX_ATTEMPTS times (a picture that kills its workers) to
//   <name>.dlx     a fanout exchange bound to
//   <name>.failed  a durable queue of pictures that failed, each with its reason in x-failure-reason (or, when the
//                  broker dead-lettered it, x-first-death-reason: delivery_limit).
import type { Channel } from 'amqplib';

export interface QueueSettings {
  url: string;
  name: string;
  maxAttempts: number;
}

export interface QueueNames {
  work: string;
  failed: string;
  deadLetterExchange: string;
}

export function queueNames(name: string): QueueNames {
  return { work: name, failed: `${name}.failed`, deadLetterExchange: `${name}.dlx` };
}

export async function declareQueues(channel: Channel, s: QueueSettings): Promise<QueueNames> {
  const names = queueNames(s.name);
  await channel.assertExchange(names.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.failed, { durable: true });
  await channel.bindQueue(names.failed, names.deadLetterExchange, '');
  await channel.assertQueue(names.work, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': names.deadLetterExchange,
      'x-delivery-limit': s.maxAttempts,
    },
  });
  return names;
}

/** Why declaring failed, for a person: a queue declared earlier with other settings is the one common cause. */
export function explainDeclareError(err: unknown, s: QueueSettings): string {
  const e = err as { code?: number; message?: string };
  if (e.code === 406) {
    return (
      `queue ${s.name} exists with other settings (${e.message}); it was declared with another QUEUE_MAX_ATTEMPTS ` +
      'or by another program: use that value, another QUEUE_NAME, or delete the queue'
    );
  }
  return e.message ?? String(err);
}
