// GET /docs: the OpenAPI document (JSON), or for a browser a small page listing the operations; /docs/json is
// always the JSON.
import type { FastifyInstance } from 'fastify';

interface Operation {
  summary?: string;
  description?: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function renderPage(spec: { info?: { title?: string }; paths?: Record<string, Record<string, Operation>> }): string {
  const rows = Object.entries(spec.paths ?? {}).flatMap(([p, ops]) =>
    Object.entries(ops).map(
      ([method, op]) =>
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(p)}</code></td>` +
        `<td>${escapeHtml(op.summary ?? '')}<br><small>${escapeHtml(op.description ?? '')}</small></td></tr>`,
    ),
  );
  const title = escapeHtml(spec.info?.title ?? 'API');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:70rem}td{padding:.3rem .8rem;vertical-align:top;
border-bottom:1px solid #ddd}small{color:#555}</style></head><body><h1>${title}</h1>
<p>OpenAPI 3 document: <a href="/docs/json">/docs/json</a></p><table>${rows.join('')}</table></body></html>`;
}

export async function docsRoutes(app: FastifyInstance) {
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (request, reply) => {
    const spec = app.swagger() as Parameters<typeof renderPage>[0];
    const wantsHtml = /text\/html/.test(request.headers.accept ?? '');
    if (wantsHtml) return reply.type('text/html; charset=utf-8').send(renderPage(spec));
    return spec;
  });
}
