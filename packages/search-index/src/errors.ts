// One error type for "the cluster cannot be reached", so callers can wait and retry (embedder) or answer 503 (API)
// without knowing the client library's error classes.
import { errors } from '@elastic/elasticsearch';

export class EsUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EsUnavailableError';
  }
}

/** Status codes that mean "the cluster is there but cannot serve right now" rather than "your request is wrong". */
const UNAVAILABLE_STATUS = new Set([429, 502, 503, 504]);

export function isUnavailable(err: unknown): boolean {
  if (err instanceof EsUnavailableError) return true;
  if (
    err instanceof errors.ConnectionError ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.NoLivingConnectionsError
  ) {
    return true;
  }
  if (err instanceof errors.ResponseError) {
    const status = err.meta?.statusCode ?? 0;
    if (UNAVAILABLE_STATUS.has(status)) return true;
    // A node that is still recovering its shards answers searches with these.
    const type = (err.body as { error?: { type?: string } } | undefined)?.error?.type;
    return type === 'cluster_block_exception' || type === 'no_shard_available_action_exception';
  }
  return false;
}

/** Runs one Elasticsearch call, turning connection failures and timeouts into EsUnavailableError. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EsUnavailableError) throw err;
    if (isUnavailable(err)) {
      throw new EsUnavailableError(`Elasticsearch is unavailable (${what}): ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? err.meta?.statusCode : undefined;
}

export function errorType(err: unknown): string | undefined {
  if (!(err instanceof errors.ResponseError)) return undefined;
  return (err.body as { error?: { type?: string } } | undefined)?.error?.type;
}
