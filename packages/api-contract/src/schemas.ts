// Request and response shapes as zod schemas: the one source for validation, error messages and the OpenAPI document.
import { z } from 'zod';
import { checkPageDepth, MODES, refineShape } from './search-params.ts';

export const MAX_QUERY_CHARS = 1000;

export interface Limits {
  topK: number;
  maxK: number;
}

function kSchema(limits: Limits, coerce: boolean) {
  const message = `k must be an integer from 1 to ${limits.maxK}`;
  const base = coerce ? z.coerce.number({ error: message }) : z.number({ error: message });
  return base
    .int({ error: message })
    .min(1, { error: message })
    .max(limits.maxK, { error: message })
    .default(limits.topK)
    .describe(`How many pictures to return (default ${limits.topK}).`);
}

function queryText(name: string) {
  return z
    .string({
      error: (iss) =>
        iss.input === undefined ? `${name} is required: the text to search for` : `${name} must be a single string`,
    })
    .trim()
    .min(1, { error: `${name} must not be empty` })
    .max(MAX_QUERY_CHARS, { error: `${name} must be at most ${MAX_QUERY_CHARS} characters` });
}

const modeSchema = z
  .enum(MODES, { error: `mode must be one of ${MODES.join(', ')}` })
  .default('vector')
  .describe(
    'vector: CLIP similarity. keyword: the words of file name, keywords, description, folder and host (BM25). ' +
      'hybrid: both rankings fused by reciprocal rank (score is then the fused score).',
  );

/** What facet counts are counted over, for the OpenAPI document: one definition for every route that gives them. */
export const FACETS_DEFINITION =
  'Counts per host, folder, format and year over the set the search ranks: the best MAX_K pictures that pass the ' +
  'cutoff and the filters (keyword mode: every picture matching the words; hybrid: both sets together), the same ' +
  'for every page. Each facet is counted with every active filter but its own, so with one host picked the other ' +
  'hosts keep their counts while folders, formats and years narrow to that host.';

/** `facets`: the answer carries the counts too, so a search (an upload above all) is sent once for both. */
function facetsFlag(coerce: boolean) {
  const error = 'facets must be true or false';
  return (coerce ? z.stringbool({ error }) : z.boolean({ error }))
    .default(false)
    .describe(
      'true: answer {hits, facets} instead of the bare list of hits, facets as /search/facets gives them. Ask on ' +
        'the first page; later pages have the same counts. ' +
        FACETS_DEFINITION,
    );
}

export const textQuerystring = (limits: Limits) =>
  z
    .object({
      q: queryText('q').describe('What to look for, e.g. "red car".'),
      k: kSchema(limits, true),
      mode: modeSchema,
      facets: facetsFlag(true),
      ...refineShape(limits, true),
    })
    .superRefine((v, ctx) => checkPageDepth(v, ctx, limits.maxK));

export const textBody = (limits: Limits) =>
  z
    .object(
      {
        text: queryText('text').describe('What to look for, e.g. "red car".'),
        k: kSchema(limits, false),
        mode: modeSchema,
        facets: facetsFlag(false),
        ...refineShape(limits, false),
      },
      { error: 'body must be a JSON object like {"text": "red car", "k": 10}' },
    )
    .superRefine((v, ctx) => checkPageDepth(v, ctx, limits.maxK));

export const kQuerystring = (limits: Limits) =>
  z
    .object({ k: kSchema(limits, true), facets: facetsFlag(true), ...refineShape(limits, true) })
    .superRefine((v, ctx) => checkPageDepth(v, ctx, limits.maxK));

export const MAX_PARTS = 10;

const weightSchema = z
  .number({ error: 'parts[].weight must be a number from -10 to 10' })
  .min(-10, { error: 'parts[].weight must be a number from -10 to 10' })
  .max(10, { error: 'parts[].weight must be a number from -10 to 10' })
  .default(1)
  .describe('How much this part counts; negative pulls away from it (default 1).');

const partSchema = z.union(
  [
    z.strictObject({ text: queryText('parts[].text').describe('A text to search for.'), weight: weightSchema }),
    z.strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,512}$/, { error: 'parts[].id must be a document id (letters, digits, "-" or "_")' })
        .describe('An indexed picture (left out of the results).'),
      weight: weightSchema,
    }),
  ],
  { error: 'parts: each part is {"text": "...", "weight": w} or {"id": "<picture id>", "weight": w}' },
);

export const combineBody = (limits: Limits) =>
  z
    .object(
      {
        parts: z
          .array(partSchema, { error: `parts must be a list of 1 to ${MAX_PARTS} texts and pictures` })
          .min(1, { error: `parts must be a list of 1 to ${MAX_PARTS} texts and pictures` })
          .max(MAX_PARTS, { error: `parts must be a list of 1 to ${MAX_PARTS} texts and pictures` })
          .describe('Texts and pictures with weights, e.g. [{"text":"beach"},{"text":"people","weight":-0.5}].'),
        k: kSchema(limits, false),
        facets: facetsFlag(false),
        ...refineShape(limits, false),
      },
      { error: 'body must be a JSON object like {"parts": [{"text": "beach"}, {"text": "people", "weight": -1}]}' },
    )
    .superRefine((v, ctx) => checkPageDepth(v, ctx, limits.maxK));
/** The JSON body of POST /search/combine as a caller writes it (defaults not yet filled in). */
export type CombineRequest = z.input<ReturnType<typeof combineBody>>;
export type CombinePart = CombineRequest['parts'][number];

export const facetsQuerystring = (limits: Limits) =>
  z.object({
    q: queryText('q').describe('The search whose results are counted.'),
    mode: modeSchema,
    ...refineShape(limits, true),
  });

const bucketsSchema = z.array(z.object({ value: z.string(), count: z.number().int() }));

export const facetsSchema = z
  .object({ host: bucketsSchema, folder: bucketsSchema, format: bucketsSchema, year: bucketsSchema })
  .describe(FACETS_DEFINITION);
export type Facets = z.infer<typeof facetsSchema>;

export const similarParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,512}$/, { error: 'id must be a document id (letters, digits, "-" or "_")' })
    .describe('Document id (SHA-256 of the picture bytes).'),
});

export const hitSchema = z.object({
  id: z.string(),
  score: z
    .number()
    .describe('Cosine-based similarity in 0..1, higher is closer (keyword: BM25 score; hybrid: fused rank score).'),
  url: z.string().describe('/images/<path relative to IMAGES_DIR>'),
  thumbnail_url: z.string().nullable(),
  source_url: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  file_name: z.string(),
  taken_at: z.string().nullable().describe('When it was taken (EXIF), if known.'),
  added_at: z.string().nullable().describe('When it was added, if known.'),
  folder: z.string().nullable().describe('Its folder relative to the images root.'),
  format: z.string().nullable(),
  source_host: z.string().nullable(),
});
export type Hit = z.infer<typeof hitSchema>;

export const hitsSchema = z.array(hitSchema).describe('Best match first.');

export const hitsWithFacetsSchema = z
  .object({ hits: hitsSchema, facets: facetsSchema })
  .describe('The answer with facets=true: the hits and the facet counts of the search.');
export type HitsWithFacets = z.infer<typeof hitsWithFacetsSchema>;

/** A search's answer: the bare list of hits, or with facets=true the hits and the counts. */
export const searchAnswerSchema = z
  .union([hitsSchema, hitsWithFacetsSchema])
  .describe('The hits, best first; with facets=true, {hits, facets}.');

export const errorCodeSchema = z.enum([
  'bad_request',
  'unauthorized',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'overloaded',
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** Every 4xx and 5xx answer: `error` for programs, `message` for people (it names the parameter at fault). */
export const errorSchema = z.object({ error: errorCodeSchema, message: z.string() });
export type ErrorBody = z.infer<typeof errorSchema>;

export const metaSchema = z.object({
  model_name: z.string(),
  vector_dim: z.number().int(),
  device: z.string(),
  es_version: z.string(),
  es_index: z.string(),
  doc_count: z.number().int(),
  hnsw_m: z.number().int().nullable(),
  hnsw_ef: z.number().int().nullable(),
  cluster: z.string(),
  model_dir: z.string(),
  synthetic: z.boolean(),
  exported_with: z
    .object({ torch: z.string(), open_clip: z.string(), onnx: z.string() })
    .nullable()
    .describe('The versions that exported the model (null for a synthetic model or an older export).'),
  concrete_index: z.string().nullable(),
  provider: z.string(),
  cluster_status: z.string(),
  reindexing: z
    .object({ model: z.string(), done: z.number().int(), total: z.number().int() })
    .nullable()
    .describe('An index being filled for another model while this one serves: "re-indexing for MODEL: done of total".'),
  strong_match_score: z.number().describe('A min_score for "only strong matches" with this model.'),
  max_k: z.number().int().describe('MAX_K: how deep pages reach (from + k at most this).'),
  work_queue: z
    .object({
      queued: z.number().int().describe('Pictures waiting in the queue (not counting those a worker holds now).'),
      failed: z.number().int().describe('Pictures in the dead-letter queue, each with its reason.'),
    })
    .nullable()
    .describe('The RabbitMQ work queue (null without QUEUE_URL, or while the broker does not answer).'),
});
export type Meta = z.infer<typeof metaSchema>;

export const healthSchema = z.object({ status: z.literal('ok') });

export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ elasticsearch: z.boolean(), index: z.boolean(), model: z.boolean() }),
  missing: z.array(z.string()).describe('What is not ready yet, in words.'),
});
export type Ready = z.infer<typeof readySchema>;

/** Error responses every search route can give, for the OpenAPI document. */
export const searchErrors = {
  400: errorSchema.describe('A parameter is missing or invalid; the message names it.'),
  503: errorSchema.describe('Elasticsearch is unreachable or the server is overloaded; see Retry-After.'),
};

/**
 * POST /search/image: multipart/form-data with the picture in a field named "file", or the bare picture as the body.
 * The route reads and checks the bytes itself, so this schema accepts whatever the body parsers leave and only
 * documents the form.
 */
export const uploadBody = z.unknown().meta({
  type: 'object',
  properties: { file: { type: 'string', format: 'binary', description: 'The picture.' } },
  required: ['file'],
});
