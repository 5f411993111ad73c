// CORS_ORIGINS lets listed browser origins call the API directly; others get no CORS headers (same-origin only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './http.ts';
import { startStubServer } from './stub-server.ts';

let server: Awaited<ReturnType<typeof startStubServer>>;
beforeAll(async () => {
  server = await startStubServer({ CORS_ORIGINS: 'http://ui.example:8501/, https://other.example' });
});
afterAll(async () => {
  await server?.close();
});

describe('CORS', () => {
  it('allows a listed origin and exposes Server-Timing', async () => {
    const res = await rawRequest(server.base, '/healthz', { headers: { Origin: 'http://ui.example:8501' } });
    expect(res.headers['access-control-allow-origin']).toBe('http://ui.example:8501');
    expect(res.headers['access-control-expose-headers']).toContain('Server-Timing');
    expect(res.headers.vary).toContain('Origin');
  });

  it('answers a preflight from a listed origin with 204', async () => {
    const res = await rawRequest(server.base, '/search/text', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://other.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toBe('content-type');
  });

  it('gives an unlisted origin no CORS headers', async () => {
    const res = await rawRequest(server.base, '/healthz', { headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
