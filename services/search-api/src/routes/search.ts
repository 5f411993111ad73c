// The search routes: text (GET and POST), picture upload, "more like this" by document id, query arithmetic, and facet
// counts; all filtered, cut off, ordered and paged alike, each answering with its facet counts too when asked.
import multipart from '@fastify/multipart';
import {
  combineBody,
  facetsQuerystring,
  facetsSchema,
  type Hit,
  type HitsWithFacets,
  kQuerystring,
  type RefineParams,
  searchAnswerSchema,
  searchErrors,
  similarParams,
  textBody,
  textQuerystring,
  uploadBody,
} from '@image-search/api-contract';
import { getVector } from '@image-search/search-index';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.ts';
import { ApiError, badRequest, notFound, tooLarge, unavailable, unsupportedMedia } from '../errors.ts';
import { type FindQuery, findFacets, findPictures, type Mode } from '../find.ts';
import { toHit } from '../hits.ts';
import { checkUpload, uploadError } from '../image-upload.ts';
import { knnSettings } from '../knn-settings.ts';
import { combineVectors } from '../query-arithmetic.ts';
import type { Embedding } from '../query-embedder.ts';
import { filtersOf, pageQueryOf } from '../search-params.ts';
import { ServerTiming, timed } from '../server-timing.ts';

/** Multipart framing around the file: boundaries and part headers are small, a generous allowance is plenty. */
const MULTIPART_OVERHEAD = 64 * 1024;

export async function searchRoutes(fastify: FastifyInstance, ctx: ApiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, es, search } = ctx;
  const limits = { topK: config.TOP_K, maxK: config.MAX_K };
  const textQ = textQuerystring(limits);
  const textB = textBody(limits);
  const kQ = kQuerystring(limits);
  const combineB = combineBody(limits);
  const facetsQ = facetsQuerystring(limits);
  const response = { 200: searchAnswerSchema, ...searchErrors };
  const target = { search, alias: config.ES_INDEX, ...knnSettings(config), maxK: config.MAX_K };
  // Only JSON bodies here: a text/plain body gets 415, not a confusing "body must be a JSON object".
  app.removeContentTypeParser('text/plain');

  interface Find extends Omit<FindQuery, 'mode'> {
    mode?: Mode;
    /** Count the facets too (in parallel), answering {hits, facets}. */
    facets?: boolean;
  }

  const refused = (err: unknown): never => {
    throw refusedByIndex(err) ?? err;
  };

  async function find(index: string, f: Find, timing: ServerTiming): Promise<Hit[] | HitsWithFacets> {
    const at = { ...target, alias: index };
    const q = { ...f, mode: f.mode ?? 'vector' };
    const [[hits, ms], counted] = await Promise.all([
      timed(() => findPictures(at, q).catch(refused)),
      f.facets ? timed(() => findFacets(at, q).catch(refused)) : undefined,
    ]);
    timing.add(q.mode === 'vector' ? 'knn' : q.mode, ms);
    const list = hits.map((h) => toHit(h, config.IMAGES_DIR));
    if (!counted) return list;
    timing.add('facets', counted[1]);
    return { hits: list, facets: counted[0] };
  }

  type Refine = RefineParams & { k: number; facets?: boolean };
  const pageOf = (p: Refine) => ({ page: pageQueryOf(p, config.MAX_K), minScore: p.min_score, facets: p.facets });

  function embeddingTiming(e: Embedding): ServerTiming {
    const timing = new ServerTiming();
    if (e.cached) return timing.flag('cache', 'hit').add('embed', 0);
    if (e.queueMs >= 0.5) timing.add('queue', e.queueMs);
    return timing.flag('cache', 'miss').add('embed', e.embedMs);
  }

  /** The model and index one request uses throughout, named in a header (a model switch swaps the pair at once). */
  function servingFor(reply: FastifyReply) {
    const now = ctx.servingNow();
    reply.header('X-Search-Index', now.index);
    return { index: now.index, embedder: ctx.embedderOf(now.model) };
  }

  async function searchText(text: string, p: Refine & { mode: Mode }, reply: FastifyReply) {
    const { index, embedder } = servingFor(reply);
    let timing = new ServerTiming();
    let vector: ArrayLike<number> | undefined;
    if (p.mode !== 'keyword') {
      const embedding = await embedder.text(text);
      timing = embeddingTiming(embedding);
      vector = embedding.vector;
    }
    const hits = await find(index, { ...pageOf(p), mode: p.mode, vector, text }, timing);
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
      return searchText(request.query.q, request.query, reply);
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
      return searchText(request.body.text, request.body, reply);
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
      const { id } = request.params;
      const { query } = request;
      const timing = new ServerTiming();
      const { index } = servingFor(reply);
      const [vector, lookupMs] = await timed(() => getVector(es, index, id));
      if (!vector) throw notFound(`id: no indexed picture has id ${id}`);
      timing.add('lookup', lookupMs);
      const { page, ...rest } = pageOf(query);
      const hits = await find(index, { ...rest, page: { ...page, excludeIds: [id] }, vector }, timing);
      reply.header('Server-Timing', timing.toString());
      return hits;
    },
  );

  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
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
          body: uploadBody,
          querystring: kQ,
          response: {
            ...response,
            413: searchErrors[400].describe('The file or its pixel count is over the limit.'),
            415: searchErrors[400].describe('The bytes are not a picture.'),
          },
        },
      },
      async (request, reply) => {
        const { query } = request;
        const timing = new ServerTiming();
        const [bytes, receiveMs] = await timed(() => uploadedBytes(request, config.MAX_UPLOAD_BYTES));
        timing.add('upload', receiveMs);
        await checkUpload(bytes);
        const { index, embedder } = servingFor(reply);
        const embedding = await embedder.picture(bytes, config.MAX_IMAGE_PIXELS).catch((err) => {
          throw uploadError(err, config.MAX_IMAGE_PIXELS);
        });
        if (embedding.queueMs >= 0.5) timing.add('queue', embedding.queueMs);
        timing.add('decode', embedding.decodeMs);
        timing.add('embed', embedding.embedMs);
        const hits = await find(index, { ...pageOf(query), vector: embedding.vector }, timing);
        reply.header('Server-Timing', timing.toString());
        return hits;
      },
    );
  });

  app.post(
    '/search/combine',
    {
      schema: {
        tags: ['search'],
        summary: 'Query arithmetic: texts and pictures with weights, negative ones pulling away',
        description:
          'The query is the normalised weighted sum of each part\'s unit vector, e.g. "beach" − 0.5 × "people", ' +
          'or a picture + "at night". Pictures named as parts are left out of the results.',
        body: combineB,
        response: { ...response, 404: searchErrors[400].describe('A part names a picture that is not indexed.') },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const timing = new ServerTiming();
      const { index, embedder } = servingFor(reply);
      const [parts, embedMs] = await timed(() =>
        Promise.all(
          body.parts.map(async (part) => {
            if ('text' in part) return { vector: (await embedder.text(part.text)).vector, weight: part.weight };
            const vector = await getVector(es, index, part.id);
            if (!vector) throw notFound(`parts: no indexed picture has id ${part.id}`);
            return { vector, weight: part.weight };
          }),
        ),
      );
      timing.add('embed', embedMs);
      const vector = combineVectors(parts);
      if (!vector) throw badRequest('parts: the weighted parts cancel out; there is nothing left to search for');
      const { page, ...rest } = pageOf(body);
      const ids = body.parts.flatMap((p) => ('id' in p ? [p.id] : []));
      const hits = await find(index, { ...rest, page: { ...page, excludeIds: ids }, vector }, timing);
      reply.header('Server-Timing', timing.toString());
      return hits;
    },
  );

  app.get(
    '/search/facets',
    {
      schema: {
        tags: ['search'],
        summary: "How many of a text search's pictures each host, folder, format and year has",
        description:
          'Every search also gives these counts in its own answer with facets=true (pictures, "more like this" ' +
          'and combined searches included), which spares a second request, and a second upload.',
        querystring: facetsQ,
        response: { 200: facetsSchema, ...searchErrors },
      },
    },
    async (request, reply) => {
      const { query } = request;
      const { index, embedder } = servingFor(reply);
      const vector = query.mode === 'keyword' ? undefined : (await embedder.text(query.q)).vector;
      const page = { k: config.MAX_K, filters: filtersOf(query) };
      const q = { page, mode: query.mode, vector, text: query.q, minScore: query.min_score };
      return findFacets({ ...target, alias: index }, q).catch(refused);
    },
  );
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
