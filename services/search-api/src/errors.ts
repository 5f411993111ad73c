// Errors as values with meaning: each maps to one HTTP status and one `error` code of the API contract, and the
// error handler turns anything else into a JSON body too, so no client mistake can surface as a 500.
import type { ErrorBody, ErrorCode } from '@image-search/api-contract';
import { EsUnavailableError } from '@image-search/search-index';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { QueueClosedError, QueueFullError } from './inference-queue.ts';
import { countElasticsearchError } from './metrics.ts';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  overloaded: 503,
  internal: 500,
};

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds, sent as Retry-After (429s and 503s). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = STATUS[code];
  }
}

export const badRequest = (message: string) => new ApiError('bad_request', message);
export const notFound = (message = 'not found') => new ApiError('not_found', message);
export const tooLarge = (message: string) => new ApiError('payload_too_large', message);
export const unsupportedMedia = (message: string) => new ApiError('unsupported_media_type', message);
export const unauthorized = (message: string) => new ApiError('unauthorized', message);
export const rateLimited = (message: string, retryAfter: number) => new ApiError('rate_limited', message, retryAfter);
export const unavailable = (message: string, retryAfter = 5) => new ApiError('unavailable', message, retryAfter);
export const overloaded = (message: string, retryAfter = 1) => new ApiError('overloaded', message, retryAfter);

const WHERE: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'headers' };

/**
 * A request that failed its zod schema: the first problem, as the schema's own message when that names the
 * parameter, else as "<path>: <message>".
 */
function fromValidation(err: FastifyError): ApiError | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const where = WHERE[err.validationContext ?? ''] ?? 'request';
  const issue = err.validation[0];
  const message = issue.message ?? 'is invalid';
  const path = issue.instancePath.slice(1).split('/').filter(Boolean).join('.');
  const named = path && message.startsWith(path.split('.')[0]);
  if (named || (!path && where === 'body')) return badRequest(message);
  return badRequest(`${path || where}: ${message}`);
}

/** Fastify's own errors for malformed requests, in words a person can act on. */
function fromFastify(err: FastifyError): ApiError | null {
  const invalid = fromValidation(err);
  if (invalid) return invalid;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest(`body: malformed JSON (${err.message})`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge('body: request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMedia(`body: unsupported Content-Type; ${err.message}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('body: Content-Length does not match the body');
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return tooLarge(`file: upload too large (${err.message})`);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return unsupportedMedia('file: send the picture as multipart/form-data with a field named "file"');
    case 'FST_PROTO_VIOLATION':
    case 'FST_MP_PREMATURE_CLOSE':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return badRequest(`file: ${err.message}`);
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return notFound(err.message);
  if (status === 413) return tooLarge(err.message);
  if (status === 415) return unsupportedMedia(err.message);
  if (status >= 400 && status < 500) return badRequest(err.message);
  return null;
}

export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof EsUnavailableError) return unavailable('Elasticsearch is unreachable; try again shortly');
  if (err instanceof QueueFullError) return overloaded(err.message);
  if (err instanceof QueueClosedError) return unavailable(err.message);
  if (err && typeof err === 'object' && 'code' in err) return fromFastify(err as FastifyError);
  if (err && typeof err === 'object' && 'statusCode' in err) return fromFastify(err as FastifyError);
  return null;
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('Retry-After', String(err.retryAfter));
  if (err.code === 'unauthorized') reply.header('WWW-Authenticate', 'Bearer realm="image-search"');
  const body: ErrorBody = { error: err.code, message: err.message };
  return reply.code(err.statusCode).type('application/json; charset=utf-8').send(body);
}

/** Fastify error handler: known errors keep their status; anything else is our bug, logged once, answered 500. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  countElasticsearchError(err);
  const known = toApiError(err);
  if (known) {
    if (known.statusCode >= 500) {
      const cause = err instanceof Error ? err.message : String(err);
      request.log.warn({ code: known.code, cause }, 'request refused');
    }
    return sendError(reply, known);
  }
  request.log.error({ err }, 'unexpected error');
  return sendError(reply, new ApiError('internal', 'internal error; see the server log'));
}
