// The search routes: text (GET and POST), picture upload, and "more like this" by document id.
import multipart from '@fastify/multipart';
import { getVector, isQuantized, knnSearch } from '@image-search/search-index';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { ApiError, badRequest, notFound, tooLarge, unavailable, unsupportedMedia } from '../errors.ts';
import { toHit } from '../hits.ts';
import { checkUpload, uploadError } from '../image-upload.ts';
import type { Embedding } from '../query-embedder.ts';
import {
  type Hit,
  hitsSchema,
  kQuerystring,
  searchErrors,
  similarParams,
  textBody,
  textQuerystring,
} from '../schemas.ts';
import { ServerTiming, timed } from '../server-timing.ts';

/** Multipart framing around the file: boundaries and part headers are small, a generous allowance is plenty. */
const MULTIPART_OVERHEAD = 64 * 1024;

export async function searchRoutes(app: FastifyInstance, ctx: ApiContext) {
  const { config, es, search } = ctx;
  const limits = { topK: config.TOP_K, maxK: config.MAX_K };
  const textQ = textQuerystring(limits);
  const textB = textBody(limits);
  const kQ = kQuerystring(limits);
  const rescoreOversample = isQuantized(config.VECTOR_INDEX_TYPE) ? config.RESCORE_OVERSAMPLE : undefined;
  const response = { 200: hitsSchema, ...searchErrors };
  // Only JSON bodies here: a text/plain body gets 415, not a confusing "body must be a JSON object".
  app.removeContentTypeParser('text/plain');

  async function nearest(vector: ArrayLike<number>, k: number, timing: ServerTiming, excludeId?: string) {
    const [hits, knnMs] = await timed(() =>
      knnSearch(search, config.ES_INDEX, {
        vector,
        k,
        numCandidates: Math.max(config.NUM_CANDIDATES, k),
        excludeId,
        rescoreOversample,
      }).catch((err) => {
        throw refusedByIndex(err) ?? err;
      }),
    );
    timing.add('knn', knnMs);
    return hits.map((h) => toHit(h, config.IMAGES_DIR));
  }

  function embeddingTiming(e: Embedding): ServerTiming {
    const timing = new ServerTiming();
    if (e.cached) return timing.flag('cache', 'hit').add('embed', 0);
    if (e.queueMs >= 0.5) timing.add('queue', e.queueMs);
    return timing.flag('cache', 'miss').add('embed', e.embedMs);
  }

  async function searchText(text: string, k: number, reply: FastifyReply): Promise<Hit[]> {
    const embedding = await ctx.embedder.text(text);
    const timing = embeddingTiming(embedding);
    const hits = await nearest(embedding.vector, k, timing);
    reply.header('Server-Timing', timing.toString());
    return hits;
  }

  app.get(
    '/search/text',
    {
      schema: {
        tags: ['search'],
        summary: 'Pictures matching a text, best first',
        querystring: textQ,
        response,
      },
    },
    async (request, reply) => {
      const { q, k } = request.query as z.output<typeof textQ>;
      return searchText(q, k, reply);
    },
  );

  app.post(
    '/search/text',
    {
      schema: {
        tags: ['search'],
        summary: 'Pictures matching a text, best first (JSON body, as the original API)',
        body: textB,
        response: { ...response, 415: searchErrors[400].describe('The body is not JSON.') },
      },
    },
    async (request, reply) => {
      const { text, k } = request.body as z.output<typeof textB>;
      return searchText(text, k, reply);
    },
  );

  app.get(
    '/search/similar/:id',
    {
      schema: {
        tags: ['search'],
        summary: 'Pictures like an indexed one (itself left out)',
        params: similarParams,
        querystring: kQ,
        response: { ...response, 404: searchErrors[400].describe('No indexed picture has this id.') },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.output<typeof similarParams>;
      const { k } = request.query as z.output<typeof kQ>;
      const timing = new ServerTiming();
      const [vector, lookupMs] = await timed(() => getVector(es, config.ES_INDEX, id));
      if (!vector) throw notFound(`id: no indexed picture has id ${id}`);
      timing.add('lookup', lookupMs);
      const hits = await nearest(vector, k, timing, id);
      reply.header('Server-Timing', timing.toString());
      return hits;
    },
  );

  await app.register(async (upload) => {
    await upload.register(multipart, {
      limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: 10, parts: 20, headerPairs: 100 },
    });
    // A bare picture body works too: curl --data-binary @cat.jpg -H 'Content-Type: image/jpeg'.
    for (const type of [/^image\//, 'application/octet-stream']) {
      upload.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: config.MAX_UPLOAD_BYTES }, (_req, body, done) =>
        done(null, body),
      );
    }

    upload.post(
      '/search/image',
      {
        schema: {
          tags: ['search'],
          summary: 'Pictures like an uploaded one',
          description:
            'multipart/form-data with the picture in a field named "file" (or the bare picture as the body). ' +
            `At most MAX_UPLOAD_BYTES (${config.MAX_UPLOAD_BYTES}) bytes and MAX_IMAGE_PIXELS ` +
            `(${config.MAX_IMAGE_PIXELS}) pixels; the format is read from the bytes.`,
          consumes: ['multipart/form-data'],
          body: {
            type: 'object',
            properties: { file: { type: 'string', format: 'binary', description: 'The picture.' } },
            required: ['file'],
          },
          querystring: kQ,
          response: {
            ...response,
            413: searchErrors[400].describe('The file or its pixel count is over the limit.'),
            415: searchErrors[400].describe('The bytes are not a picture.'),
          },
        },
      },
      async (request, reply) => {
        const { k } = request.query as z.output<typeof kQ>;
        const timing = new ServerTiming();
        const [bytes, receiveMs] = await timed(() => uploadedBytes(request, config.MAX_UPLOAD_BYTES));
        timing.add('upload', receiveMs);
        checkUpload(bytes);
        const embedding = await ctx.embedder.picture(bytes, config.MAX_IMAGE_PIXELS).catch((err) => {
          throw uploadError(err, config.MAX_IMAGE_PIXELS);
        });
        if (embedding.queueMs >= 0.5) timing.add('queue', embedding.queueMs);
        timing.add('decode', embedding.decodeMs);
        timing.add('embed', embedding.embedMs);
        const hits = await nearest(embedding.vector, k, timing);
        reply.header('Server-Timing', timing.toString());
        return hits;
      },
    );
  });
}

/**
 * Elasticsearch refusing a well-formed query means the index does not fit this API (typically vectors of another
 * model's dimension): not the caller's mistake, and not a bug here — the service is not ready, as /readyz also says.
 */
function refusedByIndex(err: unknown): ApiError | null {
  const meta = (
    err as { meta?: { statusCode?: number; body?: { error?: { root_cause?: Array<{ reason?: string }> } } } }
  ).meta;
  const status = meta?.statusCode ?? 0;
  if (status < 400 || status >= 500) return null;
  const reason = meta?.body?.error?.root_cause?.[0]?.reason ?? (err as Error).message;
  return unavailable(`the index cannot answer this query (${reason}); see /readyz`, 30);
}

async function uploadedBytes(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes + MULTIPART_OVERHEAD) {
    throw tooLarge(`file: the upload is ${declared} bytes; the limit is ${maxBytes} (MAX_UPLOAD_BYTES)`);
  }
  if (Buffer.isBuffer(request.body)) return request.body;
  if (!request.isMultipart()) {
    throw unsupportedMedia('file: send the picture as multipart/form-data with a field named "file"');
  }
  try {
    const part = await request.file();
    if (!part) throw badRequest('file: the multipart form has no file; put the picture in a field named "file"');
    if (part.fieldname !== 'file') {
      throw badRequest(`file: the picture must be in a field named "file" (got "${part.fieldname}")`);
    }
    const bytes = await part.toBuffer();
    if (part.file.truncated) {
      throw tooLarge(`file: the picture is larger than ${maxBytes} bytes (MAX_UPLOAD_BYTES)`);
    }
    return bytes;
  } catch (err) {
    // The multipart parser throws plain Errors for a malformed body ("Boundary not found", "Unexpected end"):
    // the caller's mistake, not ours. Its own limit errors carry a status and are mapped by the error handler.
    if (err instanceof ApiError || (err as { statusCode?: number }).statusCode) throw err;
    throw badRequest(`file: malformed multipart/form-data body (${(err as Error).message})`);
  }
}
