// One spec per service: the variable names and defaults of the original stack, plus what this one adds.
// These specs are the single source of truth for defaults; .env.example and docker-compose.yml are checked against them.
import {
  apiKeys,
  autoOrInt,
  bool,
  bytes,
  type Env,
  httpUrl,
  int,
  offOrNum,
  oneOf,
  optional,
  optionalAmqpUrl,
  optionalHttpUrl,
  origins,
  type Parsed,
  parseEnv,
  seconds,
  str,
  trustProxy,
  userAndPassword,
} from './env.ts';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR'] as const;

const logging = {
  LOG_LEVEL: oneOf('INFO', LOG_LEVELS),
};

/** A long-running worker that shows no progress for this long counts as stuck (its health check fails). */
const health = {
  HEALTH_STALE_SECONDS: seconds('180', { min: 5 }),
};

/** The /metrics listener of a service that has no HTTP server of its own (downloader, embedder); port 0: off. */
const metricsListener = {
  METRICS_HOST: str('0.0.0.0', 'a host name or IP address to listen on'),
  METRICS_PORT: int(0, { min: 0, max: 65535 }),
};

/** Bearer keys the search API asks for (everything but health and metrics); the UI's proxy sends the first one. */
const access = {
  API_KEYS: apiKeys(),
};

const model = {
  MODEL: str('RN50', 'an OpenCLIP model name, e.g. RN50 or ViT-B-32'),
  PRETRAINED: str('openai', 'an OpenCLIP pretrained tag, e.g. openai or laion2b_s34b_b79k'),
  /** Empty means /models/<MODEL>-<PRETRAINED>. */
  MODEL_DIR: optional(),
  DEVICE: oneOf('auto', ['auto', 'cpu', 'cuda'] as const),
  /** Intra-op threads for ONNX Runtime; 0 lets it choose. */
  MODEL_THREADS: int(0, { min: 0, max: 256 }),
};

const elasticsearch = {
  ES_HOST: httpUrl('http://localhost:9200'),
  ES_INDEX: str('images', 'an Elasticsearch index or alias name (lower case, no spaces)'),
  ES_API_KEY: optional(),
  ES_USERNAME: optional(),
  ES_PASSWORD: optional(),
  /** Path to a PEM file with the CA that signed the cluster's certificate. */
  ES_CA_CERT: optional(),
};

/**
 * dense_vector index types: HNSW over float vectors, over int8/int4-quantised ones, or over Better Binary Quantisation
 * (1 bit per dimension); and the same four as exhaustive (flat) search without a graph.
 */
export const VECTOR_INDEX_TYPES = [
  'hnsw',
  'int8_hnsw',
  'int4_hnsw',
  'bbq_hnsw',
  'flat',
  'int8_flat',
  'int4_flat',
  'bbq_flat',
] as const;
export type VectorIndexType = (typeof VECTOR_INDEX_TYPES)[number];

const index = {
  HNSW_M: int(16, { min: 2, max: 512 }),
  HNSW_EF: int(512, { min: 2, max: 4096 }),
  VECTOR_INDEX_TYPE: oneOf('hnsw', VECTOR_INDEX_TYPES),
  ES_SHARDS: int(1, { min: 1, max: 1024 }),
  ES_REPLICAS: int(0, { min: 0, max: 16 }),
};

const folders = {
  IMAGES_DIR: str('/data/images', 'a folder path'),
  THUMBNAILS_DIR: str('/data/thumbnails', 'a folder path'),
};

/** The optional RabbitMQ work queue between downloader and embedders; unset: the embedder's folder scan alone. */
const queue = {
  QUEUE_URL: optionalAmqpUrl(),
  QUEUE_NAME: str('pictures', 'a RabbitMQ queue name'),
  /** Deliveries of one picture before it goes to the dead-letter queue <QUEUE_NAME>.failed with its reason. */
  QUEUE_MAX_ATTEMPTS: int(3, { min: 1, max: 20 }),
};

export const downloaderSpec = {
  ...queue,
  ...logging,
  ...health,
  ...metricsListener,
  URL_FILE: str('/data/image_urls.txt', 'a file path'),
  OUTPUT_DIR: str('/data/images', 'a folder path'),
  MAX_CONCURRENCY: int(32, { min: 1, max: 1024 }),
  PER_HOST_CONCURRENCY: int(8, { min: 1, max: 1024 }),
  POLL_SECONDS: seconds('30', { min: 1 }),
  REQUEST_TIMEOUT_SECONDS: seconds('30', { min: 1 }),
  /** A download slower than this over any 10 s fails (0: no minimum). */
  MIN_BYTES_PER_SECOND: bytes('1024', { min: 0 }),
  MAX_IMAGE_BYTES: bytes('26214400', { min: 1024 }),
  MAX_RETRIES: int(4, { min: 0, max: 20 }),
  RETRY_FAILED_AFTER: seconds('86400', { min: 0 }),
  USER_AGENT: str('image-search-downloader/0.1 (+https://github.com/image-search)', 'a User-Agent string'),
  /** Proxies for http: and https: URLs; empty: none. */
  HTTP_PROXY: optionalHttpUrl(),
  HTTPS_PROXY: optionalHttpUrl(),
  /** Hosts reached without the proxy: comma-separated names, .domain suffixes, host:port, or *. */
  NO_PROXY: optional(),
};

export const embedderSpec = {
  ...logging,
  ...health,
  ...metricsListener,
  ...model,
  ...elasticsearch,
  ...index,
  ...folders,
  /** Durable embedder state (what has been seen and indexed); empty means <IMAGES_DIR>/../embedder-state. */
  STATE_DIR: optional(),
  /**
   * The heartbeat its health check reads; empty means <STATE_DIR>/heartbeat.json. Compose gives each replica its own
   * (a path inside the container), so one live replica on the shared state volume cannot hide a stuck one.
   */
  HEARTBEAT_FILE: optional(),
  BATCH_SIZE: int(32, { min: 1, max: 1024 }),
  POLL_SECONDS: seconds('30', { min: 1 }),
  MAX_IMAGE_PIXELS: int(100_000_000, { min: 1 }),
  ...queue,
  /** With QUEUE_URL set: whether this embedder also scans IMAGES_DIR every POLL_SECONDS (keep it on for one). */
  EMBEDDER_SCAN: bool(true),
};

export const searchApiSpec = {
  ...logging,
  // Not MODEL: the API serves with the model that built the index ES_INDEX points at (its _meta names the export), so
  // changing MODEL re-indexes behind a running API instead of restarting it.
  DEVICE: model.DEVICE,
  MODEL_THREADS: model.MODEL_THREADS,
  /** Where exports live, for indices that do not record their folder: <MODELS_DIR>/<name>-<pretrained>. */
  MODELS_DIR: str('/models', 'a folder path'),
  ...elasticsearch,
  ...index,
  ...folders,
  API_HOST: str('0.0.0.0', 'a host name or IP address to listen on'),
  API_PORT: int(8000, { min: 1, max: 65535 }),
  TOP_K: int(10, { min: 1, max: 1000 }),
  MAX_K: int(100, { min: 1, max: 10000 }),
  /** HNSW candidates per shard (never below MAX_K); auto: by VECTOR_INDEX_TYPE (services/search-api/src/knn-settings.ts). */
  NUM_CANDIDATES: autoOrInt({ min: 1, max: 10000 }),
  /** Quantised VECTOR_INDEX_TYPEs only: re-rank k × this many hits by their float vectors (rescore_vector); 0: off. */
  RESCORE_OVERSAMPLE: offOrNum(3, { min: 1, max: 10 }),
  MAX_UPLOAD_BYTES: bytes('10485760', { min: 1024 }),
  MAX_IMAGE_PIXELS: int(100_000_000, { min: 1 }),
  QUERY_CACHE_SIZE: int(1000, { min: 0 }),
  /** Model runs at once; more requests queue, and past MAX_QUEUED_QUERIES they get 503. */
  MAX_CONCURRENT_INFERENCES: int(2, { min: 1, max: 64 }),
  MAX_QUEUED_QUERIES: int(64, { min: 0, max: 100000 }),
  /** Browser origins allowed to call the API directly; empty: same-origin only (the UI proxies /api). */
  CORS_ORIGINS: origins(),
  ...queue,
  ...access,
  /** Searches and uploads a client (by IP address) may make per minute; 0: no limit. */
  RATE_LIMIT_PER_MINUTE: int(0, { min: 0, max: 1_000_000 }),
  UPLOAD_RATE_LIMIT_PER_MINUTE: int(0, { min: 0, max: 1_000_000 }),
  /** Proxies whose X-Forwarded-For names the client (for rate limits and logs). */
  TRUST_PROXY: trustProxy(),
};

export const uiSpec = {
  ...logging,
  UI_HOST: str('0.0.0.0', 'a host name or IP address to listen on'),
  UI_PORT: int(8501, { min: 1, max: 65535 }),
  API_URL: httpUrl('http://localhost:8000'),
  TOP_K: int(10, { min: 1, max: 20 }),
  ...access,
  /** user:password for the page and its /api proxy; empty: open. */
  UI_BASIC_AUTH: userAndPassword(),
};

export const stackSpec = {
  ...logging,
  DATA_DIR: str('./.data', 'a folder path'),
  URL_FILE: optional(),
  ES_HOST: httpUrl('http://localhost:9200'),
  ES_INDEX: str('images', 'an Elasticsearch index or alias name'),
  API_PORT: int(8000, { min: 1, max: 65535 }),
  UI_PORT: int(8501, { min: 1, max: 65535 }),
  MODEL_DIR: optional(),
  MODEL: str('RN50', 'an OpenCLIP model name'),
  PRETRAINED: str('openai', 'an OpenCLIP pretrained tag'),
  /** The stack's own readiness check goes through the UI, so it needs the page's credentials. */
  UI_BASIC_AUTH: userAndPassword(),
};

export const benchSpec = {
  LOG_LEVEL: oneOf('WARN', LOG_LEVELS),
};

export type DownloaderConfig = Parsed<typeof downloaderSpec>;
export type EmbedderConfig = Parsed<typeof embedderSpec> & {
  modelDir: string;
  stateDir: string;
  heartbeatFile: string;
};
export type SearchApiConfig = Parsed<typeof searchApiSpec>;
export type UiConfig = Parsed<typeof uiSpec>;
export type StackConfig = Parsed<typeof stackSpec>;

export function modelDirFor(c: { MODEL: string; PRETRAINED: string; MODEL_DIR?: string }): string {
  return c.MODEL_DIR ?? `/models/${c.MODEL}-${c.PRETRAINED}`;
}

export function loadDownloaderConfig(env: Env = process.env): DownloaderConfig {
  return parseEnv(downloaderSpec, env);
}

export function loadEmbedderConfig(env: Env = process.env): EmbedderConfig {
  const c = parseEnv(embedderSpec, env);
  const stateDir = c.STATE_DIR ?? `${c.IMAGES_DIR.replace(/\/+$/, '')}/../embedder-state`;
  return { ...c, modelDir: modelDirFor(c), stateDir, heartbeatFile: c.HEARTBEAT_FILE ?? `${stateDir}/heartbeat.json` };
}

export function loadSearchApiConfig(env: Env = process.env): SearchApiConfig {
  return parseEnv(searchApiSpec, env);
}

export function loadUiConfig(env: Env = process.env): UiConfig {
  return parseEnv(uiSpec, env);
}

export function loadStackConfig(env: Env = process.env): StackConfig {
  return parseEnv(stackSpec, env);
}

/** Every variable any service reads, with its default text: what .env.example and the compose file must agree with. */
export function allVariables(): Map<string, string> {
  const all = new Map<string, string>();
  for (const spec of [downloaderSpec, embedderSpec, searchApiSpec, uiSpec]) {
    for (const [name, v] of Object.entries(spec)) all.set(name, v.defaultText);
  }
  return all;
}
