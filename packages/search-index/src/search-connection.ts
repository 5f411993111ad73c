// Searches as plain HTTP requests (undici) for a hot path such as the API's queries: through the client library a
// search costs about half a millisecond more CPU (parameter handling, a tracing span, its serializer and transport
// bookkeeping). Same settings as createClient (host, auth, CA), and failures look like the client's: ConnectionError
// or TimeoutError when the cluster cannot be reached or does not answer, ResponseError for an error answer.
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '@elastic/elasticsearch';
import { type Dispatcher, Pool, errors as undiciErrors } from 'undici';
import { clientOptions, type EsConfig } from './client.ts';

/** One request: `path` from the host's root (query string included), `body` already JSON. */
export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface SearchConnectionOptions {
  /** No answer (headers, or the rest of the body) within this long is a TimeoutError. */
  timeoutMs?: number;
}

export class SearchConnection {
  private readonly pool: Pool;
  /** ES_HOST's path, for a cluster behind a proxy under a prefix (as the client allows). */
  private readonly prefix: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(cfg: EsConfig, opts: SearchConnectionOptions = {}) {
    const url = new URL(cfg.ES_HOST);
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    const authorization = authorizationHeader(cfg);
    if (authorization) this.headers.authorization = authorization;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const { tls } = clientOptions(cfg);
    // Connections as the client keeps them: a search after a quiet spell should not pay for a new connection.
    this.pool = new Pool(url.origin, {
      connections: 256,
      keepAliveTimeout: 600_000,
      keepAliveMaxTimeout: 600_000,
      keepAliveTimeoutThreshold: 1000,
      ...(tls ? { connect: tls } : {}),
    });
  }

  /** The parsed JSON answer of a 2xx; throws as the client would otherwise. */
  request<T>(req: JsonRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // undici's dispatch API: status, headers and body chunks straight to this handler, without the stream and the
      // promises request() puts around each response.
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart(_c, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          const text = chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString();
          try {
            resolve(answer<T>(req, status, headers, text));
          } catch (err) {
            reject(err);
          }
        },
        onResponseError(_c, err) {
          reject(transportError(err));
        },
      };
      try {
        this.pool.dispatch(
          {
            method: req.method,
            path: this.prefix + req.path,
            headers: this.headers,
            body: req.body,
            headersTimeout: this.timeoutMs,
            bodyTimeout: this.timeoutMs,
          },
          handler,
        );
      } catch (err) {
        reject(transportError(err));
      }
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function answer<T>(req: JsonRequest, statusCode: number, headers: IncomingHttpHeaders, text: string): T {
  if (statusCode >= 200 && statusCode < 300) return JSON.parse(text) as T;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): the text is the message.
  }
  throw responseError(req, statusCode, body, headers as Record<string, string>);
}

/** An error answer as the client's ResponseError, so callers classify it the same way wherever it came from. */
export function responseError(
  req: JsonRequest,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): errors.ResponseError {
  return new errors.ResponseError({
    body,
    statusCode,
    headers,
    warnings: null,
    meta: {
      context: null,
      name: 'search-connection',
      request: { params: { method: req.method, path: req.path }, options: {}, id: 0 },
      connection: null,
      attempts: 0,
      aborted: false,
    },
  });
}

/**
 * The Authorization header the client would send: ES_API_KEY first, then ES_USERNAME/ES_PASSWORD (as clientOptions),
 * then credentials in ES_HOST itself (https://user:password@host).
 */
export function authorizationHeader(cfg: EsConfig): string | undefined {
  const basic = (username: string, password: string) =>
    `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  if (cfg.ES_API_KEY) return `ApiKey ${cfg.ES_API_KEY}`;
  if (cfg.ES_USERNAME) return basic(cfg.ES_USERNAME, cfg.ES_PASSWORD ?? '');
  const url = new URL(cfg.ES_HOST);
  if (url.username) return basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
  return undefined;
}

/** undici's failures as the client's error classes, so callers classify them the same way. */
function transportError(err: unknown): Error {
  if (err instanceof undiciErrors.InvalidArgumentError) return err;
  const message = (err as Error).message;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new errors.TimeoutError(`Request timed out (${message})`);
  }
  return new errors.ConnectionError(message);
}
