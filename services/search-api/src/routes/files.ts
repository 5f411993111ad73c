// GET /images/* and /thumbnails/*: the pictures and thumbnails, read-only, served by @fastify/static (types,
// validators, caching headers, single byte ranges). Everything that is not a plain file inside the folder is a 404,
// whatever the reason: a path the plugin refuses, a dot-file, a folder, a symlink leading out.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound, sendError } from '../errors.ts';

const FOLDERS = [
  { prefix: 'images', setting: 'IMAGES_DIR', summary: 'A picture from IMAGES_DIR' },
  { prefix: 'thumbnails', setting: 'THUMBNAILS_DIR', summary: 'A thumbnail from THUMBNAILS_DIR' },
] as const;

/** The real path of the folder, resolved per file: it may appear (or be re-mounted) after the server started. */
async function containsReally(dir: string, file: string): Promise<boolean> {
  try {
    const [root, real] = await Promise.all([realpath(dir), realpath(file)]);
    return real.startsWith(root + path.sep);
  } catch {
    return false;
  }
}

async function folderRoutes(fastify: FastifyInstance, opts: { dir: string; prefix: string; summary: string }) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const root = path.resolve(opts.dir);
  const missing = () => notFound(`no such file under /${opts.prefix}/`);
  await app.register(fastifyStatic, {
    root,
    serve: false,
    suppressWarning: true,
    index: false,
    dotfiles: 'ignore',
    maxAge: 86_400_000,
    async onFile(file) {
      if (!(await containsReally(root, file))) throw missing();
    },
    setHeaders(reply) {
      // The file is written once under its final name, so the size-and-time validator is a strong one.
      const etag = reply.getHeader('etag');
      if (typeof etag === 'string') reply.header('ETag', etag.replace(/^W\//, ''));
      reply
        .header('X-Content-Type-Options', 'nosniff')
        // A picture is never a document: an SVG opened directly cannot run scripts under this origin.
        .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    },
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, missing()));
  app.setErrorHandler((err: FastifyError & { headers?: Record<string, string> }, _request, reply) => {
    if (err.statusCode === 416) {
      const size = err.headers?.['Content-Range']?.split('/')[1];
      reply.header('Content-Range', err.headers?.['Content-Range']);
      return reply
        .code(416)
        .type('application/json; charset=utf-8')
        .send({ error: 'bad_request', message: `range: not satisfiable for a file of ${size} bytes` });
    }
    return sendError(reply, missing());
  });
  app.get(
    '/*',
    {
      schema: {
        tags: ['files'],
        summary: opts.summary,
        params: z.object({ '*': z.string() }),
        description: 'Read-only; supports ETag/If-None-Match, Last-Modified/If-Modified-Since and single byte ranges.',
      },
    },
    (request, reply) => {
      // The plugin compares If-Range with the weak tag it made; a client echoes the strong one we sent.
      const ifRange = request.headers['if-range'];
      if (typeof ifRange === 'string' && ifRange.startsWith('"')) request.headers['if-range'] = `W/${ifRange}`;
      return reply.sendFile(`/${request.params['*']}`);
    },
  );
}

export async function fileRoutes(app: FastifyInstance, dirs: { IMAGES_DIR: string; THUMBNAILS_DIR: string }) {
  for (const { prefix, setting, summary } of FOLDERS) {
    await app.register(folderRoutes, { prefix: `/${prefix}`, dir: dirs[setting], summary });
  }
}
