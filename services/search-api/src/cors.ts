// CORS_ORIGINS: a comma-separated list of origins (or '*') allowed to call the API from a browser; empty means
// same-origin only (the UI reaches the API through its own /api proxy).
import type { FastifyInstance } from 'fastify';

export function parseOrigins(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
  );
}

export function registerCors(app: FastifyInstance, origins: Set<string>): void {
  if (origins.size === 0) return;
  const any = origins.has('*');
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin) return;
    if (!any && !origins.has(origin)) return;
    reply.header('Access-Control-Allow-Origin', any ? '*' : origin);
    reply.header('Access-Control-Expose-Headers', 'Server-Timing, Retry-After');
    if (!any) reply.header('Vary', 'Origin');
    if (request.method === 'OPTIONS') {
      reply
        .header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
        .header('Access-Control-Allow-Headers', request.headers['access-control-request-headers'] ?? 'Content-Type')
        .header('Access-Control-Max-Age', '600');
      return reply.code(204).send();
    }
  });
}
