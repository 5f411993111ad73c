// The RabbitMQ work queue between the downloader and the embedders: the message contract, the queues behind
// QUEUE_NAME, publishing with confirms, consuming in batches with a dead-letter queue, and the queue's counts.
export { safeUrl } from './connection.ts';
export {
  type BatchConsumer,
  type BatchConsumerOptions,
  consumeBatches,
  type Delivered,
  type PictureOutcome,
} from './consumer.ts';
export { QueueCounter, type QueueCounts } from './counts.ts';
export { decodeStoredPicture, encodeStoredPicture, MESSAGE_VERSION, type StoredPicture } from './message.ts';
export { PicturePublisher, QueueUnavailableError } from './publisher.ts';
export { declareQueues, type QueueNames, type QueueSettings, queueNames } from './topology.ts';
