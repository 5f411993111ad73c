import { describe, expect, it } from 'vitest';
import {
  allVariables,
  ConfigError,
  loadDownloaderConfig,
  loadEmbedderConfig,
  loadSearchApiConfig,
  loadUiConfig,
} from '../src/index.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('service configuration', () => {
  it("keeps the original stack's defaults", () => {
    const d = loadDownloaderConfig({});
    expect(d).toMatchObject({
      URL_FILE: '/data/image_urls.txt',
      OUTPUT_DIR: '/data/images',
      MAX_CONCURRENCY: 32,
      POLL_SECONDS: 30,
      REQUEST_TIMEOUT_SECONDS: 30,
      MAX_IMAGE_BYTES: 25 * 1024 * 1024,
      LOG_LEVEL: 'INFO',
    });
    const e = loadEmbedderConfig({});
    expect(e).toMatchObject({
      IMAGES_DIR: '/data/images',
      MODEL: 'RN50',
      ES_HOST: 'http://localhost:9200',
      ES_INDEX: 'images',
      HNSW_M: 16,
      HNSW_EF: 512,
      BATCH_SIZE: 32,
      VECTOR_INDEX_TYPE: 'hnsw',
      DEVICE: 'auto',
      modelDir: '/models/RN50-openai',
    });
    const a = loadSearchApiConfig({});
    expect(a).toMatchObject({ API_PORT: 8000, TOP_K: 10, MAX_K: 100, NUM_CANDIDATES: 'auto', QUERY_CACHE_SIZE: 1000 });
    expect(loadUiConfig({})).toMatchObject({ UI_PORT: 8501, TOP_K: 10 });
  });

  it('reads values from the environment, trimming whitespace and accepting units', () => {
    const d = loadDownloaderConfig({
      MAX_CONCURRENCY: ' 8 ',
      MAX_IMAGE_BYTES: '5MiB',
      RETRY_FAILED_AFTER: '2h',
      LOG_LEVEL: 'debug',
    });
    expect(d.MAX_CONCURRENCY).toBe(8);
    expect(d.MAX_IMAGE_BYTES).toBe(5 * 1024 * 1024);
    expect(d.RETRY_FAILED_AFTER).toBe(7200);
    expect(d.LOG_LEVEL).toBe('DEBUG');
  });

  it('derives MODEL_DIR from MODEL and PRETRAINED unless set', () => {
    expect(loadEmbedderConfig({ MODEL: 'ViT-B-32', PRETRAINED: 'laion2b_s34b_b79k' }).modelDir).toBe(
      '/models/ViT-B-32-laion2b_s34b_b79k',
    );
    expect(loadEmbedderConfig({ MODEL_DIR: '/tmp/m' }).modelDir).toBe('/tmp/m');
  });

  it('keeps the embedder heartbeat in STATE_DIR unless HEARTBEAT_FILE names one', () => {
    expect(loadEmbedderConfig({ IMAGES_DIR: '/d/images' }).heartbeatFile).toBe(
      '/d/images/../embedder-state/heartbeat.json',
    );
    expect(loadEmbedderConfig({ STATE_DIR: '/s' }).heartbeatFile).toBe('/s/heartbeat.json');
    expect(loadEmbedderConfig({ STATE_DIR: '/s', HEARTBEAT_FILE: '/tmp/beat.json' }).heartbeatFile).toBe(
      '/tmp/beat.json',
    );
  });

  it('names the variable, the value and what is allowed, one line per problem', () => {
    const problems = problemsOf(() =>
      loadDownloaderConfig({ MAX_CONCURRENCY: 'lots', POLL_SECONDS: '-1', LOG_LEVEL: 'loud' }),
    );
    expect(problems).toHaveLength(3);
    expect(problems).toContain('MAX_CONCURRENCY="lots" is not valid: expected an integer from 1 to 1024');
    expect(problems.find((p) => p.startsWith('POLL_SECONDS="-1"'))).toMatch(/expected a duration/);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL="loud"'))).toMatch(/expected one of DEBUG, INFO, WARN/);
  });

  it('rejects out-of-range numbers, bad URLs and unknown devices', () => {
    expect(problemsOf(() => loadSearchApiConfig({ API_PORT: '70000' }))[0]).toMatch(/^API_PORT=.*1 to 65535/);
    expect(problemsOf(() => loadEmbedderConfig({ ES_HOST: 'localhost:9200' }))[0]).toMatch(/http:\/\/ or https:\/\//);
    expect(problemsOf(() => loadEmbedderConfig({ DEVICE: 'tpu' }))[0]).toMatch(/one of auto, cpu, cuda/);
    expect(problemsOf(() => loadEmbedderConfig({ HNSW_M: '1.5' }))[0]).toMatch(/^HNSW_M=/);
    expect(problemsOf(() => loadEmbedderConfig({ VECTOR_INDEX_TYPE: 'int2_hnsw' }))[0]).toMatch(
      /one of hnsw, int8_hnsw, int4_hnsw, bbq_hnsw, flat, int8_flat, int4_flat, bbq_flat/,
    );
    expect(problemsOf(() => loadSearchApiConfig({ RESCORE_OVERSAMPLE: '0.5' }))[0]).toMatch(
      /^RESCORE_OVERSAMPLE=.*0 \(off\) or a number from 1 to 10/,
    );
    expect(problemsOf(() => loadSearchApiConfig({ NUM_CANDIDATES: 'wide' }))[0]).toMatch(
      /^NUM_CANDIDATES=.*auto or an integer from 1 to 10000/,
    );
    expect(loadSearchApiConfig({ NUM_CANDIDATES: ' AUTO ' }).NUM_CANDIDATES).toBe('auto');
    expect(loadSearchApiConfig({ NUM_CANDIDATES: '250' }).NUM_CANDIDATES).toBe(250);
    expect(loadSearchApiConfig({ RESCORE_OVERSAMPLE: '0', VECTOR_INDEX_TYPE: 'BBQ_HNSW' })).toMatchObject({
      RESCORE_OVERSAMPLE: 0,
      VECTOR_INDEX_TYPE: 'bbq_hnsw',
    });
    expect(problemsOf(() => loadDownloaderConfig({ HTTPS_PROXY: 'proxy:3128' }))[0]).toBe(
      'HTTPS_PROXY="proxy:3128" is not valid: expected an http:// or https:// URL, or empty',
    );
    expect(loadDownloaderConfig({ HTTP_PROXY: ' http://proxy:3128 ', HTTPS_PROXY: '' })).toMatchObject({
      HTTP_PROXY: 'http://proxy:3128',
      HTTPS_PROXY: undefined,
    });
  });

  it('reads the work queue settings: no queue by default, an amqp URL, a scan switch', () => {
    expect(loadEmbedderConfig({})).toMatchObject({
      QUEUE_URL: undefined,
      QUEUE_NAME: 'pictures',
      QUEUE_MAX_ATTEMPTS: 3,
      EMBEDDER_SCAN: true,
    });
    expect(loadEmbedderConfig({ QUEUE_URL: 'amqp://u:p@mq:5672/', EMBEDDER_SCAN: 'false' })).toMatchObject({
      QUEUE_URL: 'amqp://u:p@mq:5672/',
      EMBEDDER_SCAN: false,
    });
    expect(problemsOf(() => loadDownloaderConfig({ QUEUE_URL: 'http://mq:5672' }))).toEqual([
      'QUEUE_URL="http://mq:5672" is not valid: expected an amqp:// or amqps:// URL such as amqp://guest:guest@rabbitmq:5672, or empty for no queue',
    ]);
    expect(problemsOf(() => loadEmbedderConfig({ QUEUE_MAX_ATTEMPTS: '0' }))[0]).toMatch(/^QUEUE_MAX_ATTEMPTS="0"/);
  });

  it('strips a trailing slash from URLs and treats empty values as unset', () => {
    const e = loadEmbedderConfig({ ES_HOST: 'http://es:9200/', ES_API_KEY: '  ', BATCH_SIZE: '' });
    expect(e.ES_HOST).toBe('http://es:9200');
    expect(e.ES_API_KEY).toBeUndefined();
    expect(e.BATCH_SIZE).toBe(32);
  });

  it('reads CORS_ORIGINS as a list, ignoring blanks and trailing slashes', () => {
    expect(loadSearchApiConfig({ CORS_ORIGINS: ' http://a:1/, ,https://b ' }).CORS_ORIGINS).toEqual([
      'http://a:1',
      'https://b',
    ]);
    expect(loadSearchApiConfig({}).CORS_ORIGINS).toEqual([]);
  });

  it('lists every variable once with its default text', () => {
    const all = allVariables();
    expect(all.get('HNSW_EF')).toBe('512');
    expect(all.get('URL_FILE')).toBe('/data/image_urls.txt');
    expect(all.get('ES_API_KEY')).toBe('');
  });
});

describe('access control settings', () => {
  it('are off by default', () => {
    expect(loadSearchApiConfig({})).toMatchObject({
      API_KEYS: [],
      RATE_LIMIT_PER_MINUTE: 0,
      UPLOAD_RATE_LIMIT_PER_MINUTE: 0,
      TRUST_PROXY: false,
    });
    expect(loadUiConfig({}).UI_BASIC_AUTH).toBeUndefined();
    expect(loadEmbedderConfig({}).METRICS_PORT).toBe(0);
  });

  it('read keys, user:password and trusted proxies', () => {
    const api = loadSearchApiConfig({
      API_KEYS: ' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb== ',
      TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8',
    });
    expect(api.API_KEYS).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb==']);
    expect(api.TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    expect(loadSearchApiConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadUiConfig({ UI_BASIC_AUTH: 'anna:pa:ss word' }).UI_BASIC_AUTH).toEqual({
      user: 'anna',
      password: 'pa:ss word',
    });
  });

  it('refuse malformed values in one line each, never showing a secret', () => {
    const ui = problemsOf(() => loadUiConfig({ UI_BASIC_AUTH: 'no-colon-secret', API_KEYS: 'short' }));
    expect(ui).toHaveLength(2);
    expect(ui.join('\n')).not.toMatch(/no-colon-secret|short/);
    expect(ui).toContain(
      'UI_BASIC_AUTH=(hidden, 15 characters) is not valid: expected user:password (a user name without ":", then a ' +
        'non-empty password), or empty',
    );
    expect(ui.find((p) => p.startsWith('API_KEYS='))).toMatch(/at least 16 characters/);
    expect(problemsOf(() => loadUiConfig({ UI_BASIC_AUTH: ':password' }))).toHaveLength(1);
    expect(problemsOf(() => loadSearchApiConfig({ TRUST_PROXY: 'the proxy' }))[0]).toMatch(/^TRUST_PROXY="the proxy"/);
    expect(problemsOf(() => loadDownloaderConfig({ METRICS_PORT: '70000' }))[0]).toMatch(/^METRICS_PORT=/);
  });
});
