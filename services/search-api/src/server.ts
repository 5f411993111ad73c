// buildServer: the Fastify app with every route, from injected parts (config, a loaded model, an ES client), so
// tests start it on port 0 and main.ts only wires and listens.
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import type { SearchApiConfig } from '@image-search/config';
import type { Logger } from '@image-search/log';
import { type Client, SearchConnection } from '@image-search/search-index';
import type { QueueCounts } from '@image-search/work-queue';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { OPEN_ROUTES, registerAccess, securityDocs } from './access.ts';
import type { ApiContext } from './context.ts';
import { badRequest, handleError, notFound, sendError, unavailable } from './errors.ts';
import { InferenceQueue } from './inference-queue.ts';
import { metricsRoutes } from './metrics.ts';
import { LruCache } from './query-cache.ts';
import { QueryEmbedder, type QueryModel } from './query-embedder.ts';
import { docsRoutes } from './routes/docs.ts';
import { fileRoutes } from './routes/files.ts';
import { metaRoutes } from './routes/meta.ts';
import { searchRoutes } from './routes/search.ts';
import { fixedServing, type ModelServing } from './serving.ts';

export interface ServerDeps {
  config: SearchApiConfig;
  /**
   * The model(s): one loaded and warmed up model searched against ES_INDEX whatever it holds, or the models that follow
   * the alias (main.ts). Owned by the caller, who closes them after the server.
   */
  model: QueryModel | ModelServing;
  /** Owned by the caller, like the model. */
  es: Client;
  logger?: Logger;
  /** The work queue's counts for /meta (main.ts, with QUEUE_URL); owned by the caller. */
  queueCounts?(): Promise<QueueCounts | null>;
}

export interface SearchApi {
  app: FastifyInstance;
}

/** A search that has not answered in this time is reported as Elasticsearch being unavailable (503). */
const ES_REQUEST_TIMEOUT_MS = 10_000;

export async function buildServer(deps: ServerDeps): Promise<SearchApi> {
  const { config, model } = deps;
  // Fail fast: the client's default retries with backoff keep a request waiting seconds for a cluster that is down,
  // where a 503 with Retry-After tells the caller at once. Shares the caller's connection pool.
  const es = deps.es.child({ maxRetries: 0, requestTimeout: ES_REQUEST_TIMEOUT_MS });
  // The same cluster and settings for the searches themselves, without retries either; closed with the server.
  const search = new SearchConnection(config, { timeoutMs: ES_REQUEST_TIMEOUT_MS });
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // request.ip (rate limits, logs) is the client named by these proxies' X-Forwarded-For, not the proxy.
    trustProxy: config.TRUST_PROXY,
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 1000 },
    // {"__proto__": …} in a body is dropped rather than refused: harmless once removed.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // A URL the router cannot decode (or an over-long parameter): under the file folders that is just a missing
    // file (404) like every other odd path there; elsewhere it is the caller's mistake (400).
    frameworkErrors: (err, request, reply) => {
      const path = (request.raw.url ?? '').split('?', 1)[0];
      if (/^\/(images|thumbnails)\//.test(path)) return sendError(reply, notFound('no such file'));
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
        return sendError(reply, badRequest('path: a path parameter is too long'));
      return sendError(reply, badRequest(`path: not a valid URL (${path.slice(0, 200)})`));
    },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, notFound(`no route ${request.method} ${request.url.split('?', 1)[0]}`));
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });
  if (config.CORS_ORIGINS.length > 0) {
    const any = config.CORS_ORIGINS.includes('*');
    await app.register(cors, {
      origin: any ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'OPTIONS'],
      exposedHeaders: ['Server-Timing', 'Retry-After'],
      maxAge: 600,
    });
  }

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'image-search API',
        version: '0.1.0',
        description: 'Text-to-image and image-to-image search over pictures indexed in Elasticsearch with CLIP.',
      },
      tags: [
        { name: 'search', description: 'Nearest pictures by text, picture or id' },
        { name: 'files', description: 'Pictures and thumbnails' },
        { name: 'meta', description: 'Model, index and health' },
      ],
      ...securityDocs(config),
    },
    transform: (route) => {
      const out = jsonSchemaTransform(route);
      return OPEN_ROUTES.has(route.url) ? { ...out, schema: { ...out.schema, security: [] } } : out;
    },
  });
  await registerAccess(app, config);

  const queue = new InferenceQueue(config.MAX_CONCURRENT_INFERENCES, config.MAX_QUEUED_QUERIES);
  const serving = 'current' in model ? model : fixedServing(model, config.ES_INDEX);
  // One embedder (and query cache) per model: a cached vector of one model must never answer for another.
  const embedders = new WeakMap<QueryModel, QueryEmbedder>();
  const embedderOf = (m: QueryModel) => {
    const known = embedders.get(m);
    if (known) return known;
    const made = new QueryEmbedder(m, queue, new LruCache(config.QUERY_CACHE_SIZE));
    embedders.set(m, made);
    return made;
  };
  const servingNow = () => {
    const now = serving.current();
    if (!now) throw unavailable(`not ready: ${serving.whyNot()}; see /readyz`, 5);
    return now;
  };
  const queueCounts = deps.queueCounts ?? (async () => null);
  const ctx: ApiContext = { config, es, search, serving, embedderOf, servingNow, queueCounts };
  let closing = false;
  // Requests already running finish (Fastify waits for them); their model runs drain before the model is closed.
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onClose', async () => {
    await queue.drain();
    await search.close();
  });

  await metricsRoutes(app, { queue });
  await app.register(searchRoutes, ctx);
  await app.register(fileRoutes, config);
  await app.register(metaRoutes, { ...ctx, isModelReady: () => !closing });
  await app.register(docsRoutes);
  return { app };
}
