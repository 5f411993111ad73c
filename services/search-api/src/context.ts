// What every route needs, built once by buildServer.
import type { SearchApiConfig } from '@image-search/config';
import type { Client } from '@image-search/search-index';
import type { QueryEmbedder, QueryModel } from './query-embedder.ts';

export interface ApiContext {
  config: SearchApiConfig;
  es: Client;
  model: QueryModel;
  embedder: QueryEmbedder;
}
