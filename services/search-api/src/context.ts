// What every route needs, built once by buildServer.
import type { SearchApiConfig } from '@image-search/config';
import type { Client, SearchConnection } from '@image-search/search-index';
import type { QueryEmbedder, QueryModel } from './query-embedder.ts';

export interface ApiContext {
  config: SearchApiConfig;
  es: Client;
  /** kNN searches go straight over HTTP: the query path's Elasticsearch request without the client's layers. */
  search: SearchConnection;
  model: QueryModel;
  embedder: QueryEmbedder;
}
