// @image-search/search-index: the one place that knows Elasticsearch — client, index lifecycle, bulk writes, kNN.
export {
  type Client,
  clientOptions,
  createClient,
  type EsConfig,
  untilAvailable,
  type WaitOptions,
  waitForCluster,
} from './client.ts';
export { EsUnavailableError, isUnavailable } from './errors.ts';
export {
  FACET_NAMES,
  FACET_SIZE,
  type FacetBucket,
  type FacetName,
  type FacetQuery,
  type FacetSearch,
  type Facets,
  facetCounts,
  facetSearches,
  facetsRequest,
} from './facets.ts';
export { docsLackingFacts, type StaleDoc } from './facts.ts';
export { filterClauses, type SearchFilters } from './filters.ts';
export { RRF_RANK_CONSTANT, reciprocalRankFusion } from './fuse.ts';
export {
  docsByPath,
  type RankedPath,
  type RankingWindows,
  rankingWindows,
  rankingWindowsRequest,
} from './hybrid.ts';
export {
  type Filling,
  fillingIndex,
  type IndexModel,
  indexModelFrom,
  recordFilling,
  recordModelSource,
  servingIndex,
} from './index-model.ts';
export { aliasTargets, ensureModelIndex, type IndexInfo, indexInfo, promoteIndex } from './lifecycle.ts';
export {
  concreteIndexName,
  FACT_FIELDS,
  FACTS_VERSION,
  type ImageDoc,
  type IndexMeta,
  type IndexSpec,
  indexBody,
  isQuantized,
  MAPPING_VERSION,
  type ModelSource,
  modelSlug,
  type Orientation,
  type PictureFacts,
  SIMILARITY,
  toUnitVector,
} from './mapping.ts';
export {
  getVector,
  KEYWORD_FIELDS,
  type KeywordQuery,
  KNN_FILTER_PATH,
  type KnnQuery,
  keywordRequest,
  keywordSearch,
  knnRequest,
  knnSearch,
  type PageQuery,
  type SearchHit,
  type SortOrder,
  unitVectorJson,
} from './query.ts';
export {
  authorizationHeader,
  type JsonRequest,
  SearchConnection,
  type SearchConnectionOptions,
} from './search-connection.ts';
export { type BulkOp, type BulkOptions, type BulkResult, bulkWrite, existingIds, refreshIndex } from './write.ts';
