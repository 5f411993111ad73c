// GET /images/* and /thumbnails/*: the pictures and thumbnails, read-only, with types, validators, caching headers
// and single byte ranges. Everything that is not a plain file inside the folder is a 404, whatever the reason.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../errors.ts';
import { contentTypeFor, etagFor, isNotModified, parseRange, rangeStillValid } from '../http-range.ts';
import { realRoot, resolveInside } from '../safe-path.ts';

const CACHE_CONTROL = 'public, max-age=86400';

/** The still-encoded path after `/<prefix>/`, from the raw URL, so the router's decoding cannot hide anything. */
function rawSubPath(url: string, prefix: string): string {
  const noQuery = url.split('?', 1)[0];
  return noQuery.slice(prefix.length + 2);
}

async function serveFile(dir: string, prefix: string, request: FastifyRequest, reply: FastifyReply) {
  // Resolved per request: the folder may appear (or be re-mounted) after the server started.
  const root = await realRoot(dir);
  const found = await resolveInside(root, rawSubPath(request.raw.url ?? '', prefix));
  if (!found) throw notFound(`no such file under /${prefix}/`);
  const { file, stats } = found;
  const etag = etagFor(stats.size, stats.mtimeMs);
  reply
    .header('ETag', etag)
    .header('Last-Modified', new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString())
    .header('Cache-Control', CACHE_CONTROL)
    .header('Accept-Ranges', 'bytes')
    .header('X-Content-Type-Options', 'nosniff')
    // A picture is never a document: an SVG opened directly cannot run scripts under this origin.
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  if (isNotModified(request.headers, etag, stats.mtimeMs)) return reply.code(304).send();

  reply.type(contentTypeFor(path.basename(file)));
  const ifRange = request.headers['if-range'] as string | undefined;
  const range = rangeStillValid(ifRange, etag, stats.mtimeMs) ? parseRange(request.headers.range, stats.size) : null;
  if (range === 'unsatisfiable') {
    return reply
      .code(416)
      .header('Content-Range', `bytes */${stats.size}`)
      .type('application/json; charset=utf-8')
      .send({ error: 'bad_request', message: `range: not satisfiable for a file of ${stats.size} bytes` });
  }
  if (range) {
    reply
      .code(206)
      .header('Content-Range', `bytes ${range.start}-${range.end}/${stats.size}`)
      .header('Content-Length', String(range.end - range.start + 1));
    return reply.send(createReadStream(file, { start: range.start, end: range.end }));
  }
  reply.header('Content-Length', String(stats.size));
  return reply.send(createReadStream(file));
}

export async function fileRoutes(app: FastifyInstance, opts: { imagesDir: string; thumbnailsDir: string }) {
  const roots = { images: opts.imagesDir, thumbnails: opts.thumbnailsDir };
  for (const prefix of ['images', 'thumbnails'] as const) {
    app.get(
      `/${prefix}/*`,
      {
        schema: {
          tags: ['files'],
          summary: prefix === 'images' ? 'A picture from IMAGES_DIR' : 'A thumbnail from THUMBNAILS_DIR',
          description:
            'Read-only; supports ETag/If-None-Match, Last-Modified/If-Modified-Since and single byte ranges.',
        },
      },
      (request, reply) => serveFile(roots[prefix], prefix, request, reply),
    );
  }
}
