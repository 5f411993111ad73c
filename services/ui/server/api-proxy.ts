// /api/* → API_URL/*: requests and answers are streamed both ways (uploads included), so the page talks to one
// origin and nothing is buffered here. When the API cannot be reached the page gets a JSON error it can explain.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from '@image-search/log';

// Hop-by-hop headers belong to one connection and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export interface ApiProxy {
  handle(req: IncomingMessage, res: ServerResponse, pathAndQuery: string): void;
  close(): void;
}

export function createApiProxy(apiUrl: string, log: Logger, opts: { apiKey?: string } = {}): ApiProxy {
  const base = new URL(apiUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 64 });

  function fail(res: ServerResponse, status: number, message: string) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ error: 'unavailable', message });
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-ui-proxy': 'upstream-unreachable',
    });
    res.end(body);
  }

  return {
    handle(req, res, pathAndQuery) {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
      }
      const forwardedFor = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = [forwardedFor, req.socket.remoteAddress].filter(Boolean).join(', ');
      headers['x-forwarded-host'] = req.headers.host ?? '';
      headers['x-forwarded-proto'] = 'http';
      // The API gets the UI's key, so pictures and searches work in the page without the key ever reaching it; the
      // browser's UI_BASIC_AUTH credentials are for this server only.
      if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
      else if (/^basic /i.test(String(headers.authorization))) delete headers.authorization;

      const upstream = client.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port || undefined,
          method: req.method,
          path: basePath + pathAndQuery,
          headers,
          agent,
        },
        (up) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(up.headers)) {
            if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
          }
          res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
          up.pipe(res);
          up.on('error', () => res.destroy());
        },
      );
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (res.writableEnded || res.destroyed) return;
        log.warn({ err: err.message, code: err.code, path: pathAndQuery }, 'search API unreachable');
        fail(res, 502, `The search API at ${apiUrl} is not answering (${err.code ?? err.message}).`);
      });
      // The browser gave up (a newer search replaced this one): stop the upstream request too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    },
    close() {
      agent.destroy();
    },
  };
}
