// Who may call the API and how often: bearer keys (API_KEYS, @fastify/bearer-auth) on everything except the routes a
// health check or a Prometheus scrape needs, and per-client limits (@fastify/rate-limit) on searches and uploads.
// Both off by default; a refusal is a JSON error like every other (401 with WWW-Authenticate, 429 with Retry-After).
import bearerAuth from '@fastify/bearer-auth';
import rateLimit from '@fastify/rate-limit';
import type { SearchApiConfig } from '@image-search/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rateLimited, sendError, unauthorized } from './errors.ts';

/** Open without a key: health checks, the Prometheus scrape (counts and timings only) and the API's description. */
export const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/docs', '/docs/json']);

const UPLOAD_ROUTE = '/search/image';

type AccessConfig = Pick<SearchApiConfig, 'API_KEYS' | 'RATE_LIMIT_PER_MINUTE' | 'UPLOAD_RATE_LIMIT_PER_MINUTE'>;

/** Registers the key check and the rate limits on `app`; call before the routes are registered. */
export async function registerAccess(app: FastifyInstance, config: AccessConfig): Promise<void> {
  if (config.API_KEYS.length > 0) {
    // addHook: false, so the open routes and CORS preflights can skip the check. The refusal is sent from the hook
    // itself: the file routes have an error handler of their own, which answers 404 to anything.
    await app.register(bearerAuth, { keys: config.API_KEYS, addHook: false, verifyErrorLogLevel: 'debug' });
    app.addHook('onRequest', (request, reply, done) => {
      if (request.method === 'OPTIONS' || OPEN_ROUTES.has(request.routeOptions.url ?? '')) return done();
      app.verifyBearerAuth?.(request, reply, (err) => {
        if (!err) return done();
        const problem =
          request.headers.authorization === undefined ? 'an API key is required' : 'the API key is not valid';
        sendError(reply, unauthorized(`${problem}: send "Authorization: Bearer <one of API_KEYS>"`));
      });
    });
  }

  const limitOf = (request: FastifyRequest) =>
    request.routeOptions.url === UPLOAD_ROUTE ? config.UPLOAD_RATE_LIMIT_PER_MINUTE : config.RATE_LIMIT_PER_MINUTE;
  const limited = (request: FastifyRequest) =>
    request.routeOptions.url?.startsWith('/search/') === true && limitOf(request) > 0;
  if (config.RATE_LIMIT_PER_MINUTE > 0 || config.UPLOAD_RATE_LIMIT_PER_MINUTE > 0) {
    await app.register(rateLimit, {
      timeWindow: 60_000,
      max: (request) => limitOf(request),
      // Uploads and searches count separately: a client's searches never use up its uploads, nor the other way.
      keyGenerator: (request) => `${request.ip} ${request.routeOptions.url === UPLOAD_ROUTE ? 'upload' : 'search'}`,
      allowList: (request) => !limited(request),
      errorResponseBuilder: (request, context) =>
        rateLimited(
          `too many ${request.routeOptions.url === UPLOAD_ROUTE ? 'uploads' : 'searches'}: at most ${context.max} a ` +
            `minute from one client; try again in ${context.after}`,
          Math.max(1, Math.ceil(context.ttl / 1000)),
        ),
    });
  }
}

/** The OpenAPI security scheme, when keys are required: every operation but the open routes needs one. */
export function securityDocs(config: AccessConfig) {
  if (config.API_KEYS.length === 0) return {};
  return {
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http' as const,
          scheme: 'bearer',
          description: 'One of API_KEYS. /healthz, /readyz, /metrics and /docs need none.',
        },
      },
    },
    security: [{ apiKey: [] }],
  };
}
