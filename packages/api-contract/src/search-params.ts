// The parameters every search takes besides what it searches for — page, cutoff, order, filters — as zod schemas:
// validation with messages naming the parameter, and the OpenAPI document.
import { z } from 'zod';
import type { Limits } from './schemas.ts';

export const SORTS = ['relevance', 'newest', 'oldest'] as const;
export const MODES = ['vector', 'keyword', 'hybrid'] as const;
export const ORIENTATIONS = ['landscape', 'portrait', 'square'] as const;
export const FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type Sort = (typeof SORTS)[number];
export type Mode = (typeof MODES)[number];
export type Format = (typeof FORMATS)[number];

function intParam(name: string, min: number, max: number, coerce: boolean, what: string) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  const base = coerce ? z.coerce.number({ error: message }) : z.number({ error: message });
  return base.int({ error: message }).min(min, { error: message }).max(max, { error: message }).describe(what);
}

function oneOf<T extends readonly [string, ...string[]]>(name: string, values: T, what: string) {
  return z.enum(values, { error: `${name} must be one of ${values.join(', ')}` }).describe(what);
}

function fraction(name: string, coerce: boolean) {
  const message = `${name} must be a number from 0 to 1`;
  const base = coerce ? z.coerce.number({ error: message }) : z.number({ error: message });
  return base.min(0, { error: message }).max(1, { error: message });
}

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function dateParam(name: string, what: string) {
  const message = `${name} must be a date, 2024-05-06 or 2024-05-06T07:08:09Z`;
  return z
    .string({ error: message })
    .regex(DATE, { error: message })
    .refine((v) => !Number.isNaN(Date.parse(v)), { error: message })
    .describe(what);
}

/**
 * One value, a comma-separated list, or the parameter repeated (a list in a JSON body). With `numbers`, numbers are
 * taken too (a year in a JSON body, 2024), as their decimal text, which `item` then checks like any other value.
 */
function listParam(name: string, item: z.ZodType<string>, what: string, numbers?: { error: string }) {
  const one = numbers ? z.union([z.string(), z.number()]) : z.string();
  const error = numbers?.error ?? `${name} must be a string or a list of strings`;
  return z
    .union([one, z.array(one)], { error })
    .transform((v, ctx) => {
      const values = (Array.isArray(v) ? v : [v])
        .flatMap((s) => String(s).split(','))
        .map((s) => s.trim())
        .filter(Boolean);
      for (const value of values) {
        const parsed = item.safeParse(value);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? `${name} is invalid` });
          return z.NEVER;
        }
      }
      return values;
    })
    .describe(what);
}

/** Page, cutoff, order and filters: the same names in a query string (coerced) and in a JSON body. */
export function refineShape(limits: Limits, coerce: boolean) {
  return {
    from: intParam(
      'from',
      0,
      limits.maxK - 1,
      coerce,
      `Pictures to skip: the next page starts at from + k (from + k at most MAX_K, ${limits.maxK}).`,
    ).default(0),
    min_score: fraction('min_score', coerce)
      .optional()
      .describe('Only pictures at least this similar (0..1, as `score`); /meta gives a strong-match default.'),
    sort: oneOf(
      'sort',
      SORTS,
      'relevance (best first), or newest / oldest by date taken (else added) among the best MAX_K pictures ' +
        'that pass the cutoff and the filters.',
    ).default('relevance'),
    taken_from: dateParam('taken_from', 'Taken on or after (EXIF date).').optional(),
    taken_to: dateParam('taken_to', 'Taken on or before; a bare day includes that day.').optional(),
    added_from: dateParam('added_from', 'Added on or after.').optional(),
    added_to: dateParam('added_to', 'Added on or before; a bare day includes that day.').optional(),
    host: listParam(
      'host',
      z.string().max(253, { error: 'host must be a host name of at most 253 characters' }),
      'Source hosts (comma-separated or repeated): pictures downloaded from any of them.',
    ).optional(),
    folder: z
      .string({ error: 'folder must be a string' })
      .max(1000, { error: 'folder must be at most 1000 characters' })
      .optional()
      .describe('A folder relative to the images root: pictures in it and in the folders under it.'),
    format: listParam(
      'format',
      z.enum(FORMATS, { error: `format must be one of ${FORMATS.join(', ')}` }),
      `Picture formats (comma-separated or repeated): ${FORMATS.join(', ')}.`,
    ).optional(),
    year: listParam(
      'year',
      z.string().regex(/^\d{4}$/, { error: 'year must be a 4-digit year, e.g. 2024' }),
      'Years (comma-separated or repeated; in a JSON body a year or a list, as numbers or strings): pictures taken ' +
        'in any of them, or added then when the date taken is unknown; the years the facets count.',
      coerce ? undefined : { error: 'year must be a 4-digit year, e.g. 2024, or a list of them' },
    ).optional(),
    orientation: oneOf('orientation', ORIENTATIONS, 'Upright shape of the picture.').optional(),
    min_width: intParam('min_width', 1, 1_000_000, coerce, 'At least this many pixels wide (upright).').optional(),
    min_height: intParam('min_height', 1, 1_000_000, coerce, 'At least this many pixels high (upright).').optional(),
  };
}

export type RefineParams = z.output<z.ZodObject<ReturnType<typeof refineShape>>>;

/** from + k may not pass MAX_K: deeper pages are not kept stable. */
export function checkPageDepth(v: { from: number; k: number }, ctx: z.RefinementCtx, maxK: number): void {
  if (v.from + v.k > maxK) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: `from: from + k must be at most ${maxK} (MAX_K); got ${v.from} + ${v.k}`,
    });
  }
}
