// The one undici dispatcher every download goes through: an Agent keeping at most PER_HOST_CONCURRENCY connections to
// an origin, or, when HTTP_PROXY / HTTPS_PROXY is set, an EnvHttpProxyAgent that tunnels through them (minus NO_PROXY).
import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';

export interface DispatcherSettings {
  perHostConcurrency: number;
  timeoutMs: number;
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

export function createDispatcher(s: DispatcherSettings): Dispatcher {
  const options = {
    connections: s.perHostConcurrency,
    keepAliveTimeout: 10_000,
    // each download has its own deadline (fetch-image.ts); these only bound what it does not cover
    headersTimeout: s.timeoutMs,
    bodyTimeout: s.timeoutMs,
    connect: { timeout: s.timeoutMs },
  };
  if (!s.httpProxy && !s.httpsProxy) return new Agent(options);
  // Empty strings, not undefined: undici would read the environment itself (lower-case names too).
  return new EnvHttpProxyAgent({
    ...options,
    httpProxy: s.httpProxy ?? '',
    httpsProxy: s.httpsProxy ?? '',
    noProxy: s.noProxy ?? '',
  });
}
