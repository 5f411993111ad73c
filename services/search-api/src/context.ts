// What every route needs, built once by buildServer.
import type { SearchApiConfig } from '@image-search/config';
import type { Client, SearchConnection } from '@image-search/search-index';
import type { QueueCounts } from '@image-search/work-queue';
import type { QueryEmbedder, QueryModel } from './query-embedder.ts';
import type { ModelServing, Serving } from './serving.ts';

export interface ApiContext {
  config: SearchApiConfig;
  es: Client;
  /** kNN searches go straight over HTTP: the query path's Elasticsearch request without the client's layers. */
  search: SearchConnection;
  /** The model answering now and the index it built; each request takes one pair and keeps it. */
  serving: ModelServing;
  /** The model's query embedder (its cache and batching), all models sharing one inference queue. */
  embedderOf(model: QueryModel): QueryEmbedder;
  /** The pair answering now, or 503 saying why there is none. */
  servingNow(): Serving;
  /** The work queue's counts; null without a queue or while its broker does not answer. */
  queueCounts(): Promise<QueueCounts | null>;
}
