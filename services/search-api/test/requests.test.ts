// Every caller mistake gets its status and a message naming what is wrong; Elasticsearch being unreachable is a 503
// with Retry-After; a burst past the queue is a 503 'overloaded'. Stand-in model, no cluster (see stub-server.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourPicture } from './fixture.ts';
import { type RawResponse, rawRequest } from './http.ts';
import { startStubServer } from './stub-server.ts';

let server: Awaited<ReturnType<typeof startStubServer>>;

beforeAll(async () => {
  server = await startStubServer({ MAX_UPLOAD_BYTES: '65536', MAX_IMAGE_PIXELS: '10000', MAX_K: '100' });
});
afterAll(async () => {
  await server?.close();
});

const get = (p: string, headers?: Record<string, string>) => rawRequest(server.base, p, { headers });
const postJson = (p: string, body: string, type = 'application/json') =>
  rawRequest(server.base, p, { method: 'POST', body, headers: { 'Content-Type': type } });

function multipart(field: string, bytes: Buffer, fileName = 'x.png', type = 'image/png') {
  const boundary = '----search-api-test';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\n` +
        `Content-Type: ${type}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return rawRequest(server.base, '/search/image', {
    method: 'POST',
    body,
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
  });
}

function expectError(res: RawResponse, status: number, error: string, mentions: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<{ error: string; message: string }>();
  expect(body.error).toBe(error);
  expect(body.message).toMatch(mentions);
}

describe('text search parameters', () => {
  it.each([
    ['/search/text', /^q is required/],
    ['/search/text?k=5', /^q is required/],
    ['/search/text?q=', /^q must not be empty/],
    ['/search/text?q=%20%20%09', /^q must not be empty/],
    ['/search/text?q=a&q=b', /^q must be a single string/],
    [`/search/text?q=${'a'.repeat(1001)}`, /^q must be at most 1000 characters/],
    ['/search/text?q=red&k=abc', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=0', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=-3', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=101', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=2.5', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=', /^k must be an integer from 1 to 100/],
    ['/search/text?q=red&k=1&k=2', /^k must be an integer from 1 to 100/],
  ])('GET %s → 400', async (url, message) => {
    expectError(await get(url), 400, 'bad_request', message);
  });

  it.each([
    ['{"text": "red", ', /^body: malformed JSON/],
    ['', /^body: malformed JSON/],
    ['"red"', /^body must be a JSON object/],
    ['[1, 2]', /^body must be a JSON object/],
    ['null', /^body/],
    ['{}', /^text is required/],
    ['{"q": "red"}', /^text is required/],
    ['{"text": ""}', /^text must not be empty/],
    ['{"text": 42}', /^text must be a single string/],
    [JSON.stringify({ text: 'x'.repeat(1001) }), /^text must be at most 1000 characters/],
    ['{"text": "red", "k": 0}', /^k must be an integer from 1 to 100/],
    ['{"text": "red", "k": 1000}', /^k must be an integer from 1 to 100/],
    ['{"text": "red", "k": "ten"}', /^k must be an integer from 1 to 100/],
    ['{"text": "red", "k": 1.5}', /^k must be an integer from 1 to 100/],
  ])('POST %s → 400', async (body, message) => {
    expectError(await postJson('/search/text', body), 400, 'bad_request', message);
  });

  it('refuses a body that is not JSON with 415', async () => {
    expectError(
      await postJson('/search/text', 'text=red', 'text/plain'),
      415,
      'unsupported_media_type',
      /Content-Type/,
    );
  });

  it('checks similar-search ids and k', async () => {
    expectError(await get('/search/similar/not.an%20id'), 400, 'bad_request', /^id must be a document id/);
    expectError(await get('/search/similar/abc?k=500'), 400, 'bad_request', /^k must be an integer/);
  });
});

describe('picture upload', () => {
  it('needs multipart/form-data or a picture body', async () => {
    expectError(await postJson('/search/image', '{"file": "x"}'), 415, 'unsupported_media_type', /multipart/);
  });

  it('needs the picture in a field named "file"', async () => {
    const png = await colourPicture([200, 0, 0], 'png', 1);
    expectError(await multipart('picture', png), 400, 'bad_request', /field named "file"/);
  });

  it('judges the type by the bytes, not the name or the claimed type', async () => {
    const res = await multipart('file', Buffer.from('this is not a picture at all, just text'), 'x.png', 'image/png');
    expectError(res, 415, 'unsupported_media_type', /not a picture/);
    const html = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expectError(
      await multipart('file', html, 'x.svg', 'image/svg+xml'),
      415,
      'unsupported_media_type',
      /not a picture/,
    );
  });

  it('refuses an empty file and a corrupt picture with 400', async () => {
    expectError(await multipart('file', Buffer.alloc(0)), 400, 'bad_request', /empty/);
    const png = await colourPicture([200, 0, 0], 'png', 2);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]);
    expectError(await multipart('file', broken), 400, 'bad_request', /could not be decoded/);
  });

  it('refuses files over MAX_UPLOAD_BYTES with 413', async () => {
    const big = Buffer.concat([(await colourPicture([0, 0, 200], 'png', 3)).subarray(0, 16), Buffer.alloc(70_000)]);
    expectError(await multipart('file', big), 413, 'payload_too_large', /65536|too large/);
    const raw = await rawRequest(server.base, '/search/image', {
      method: 'POST',
      body: big,
      headers: { 'Content-Type': 'image/png' },
    });
    expectError(raw, 413, 'payload_too_large', /too large/);
  });

  it('refuses a decompression bomb (small file, too many pixels) with 413', async () => {
    const bomb = await colourPicture([0, 200, 0], 'png', 4, { width: 400, height: 400 });
    expect(bomb.length).toBeLessThan(65536);
    expectError(await multipart('file', bomb), 413, 'payload_too_large', /too many pixels/);
  });
});

describe('when Elasticsearch cannot be reached', () => {
  it('answers searches with 503 and Retry-After', async () => {
    for (const res of [
      await get('/search/text?q=red'),
      await postJson('/search/text', '{"text": "blue", "k": 3}'),
      await get('/search/similar/abc'),
      await multipart('file', await colourPicture([200, 0, 0], 'jpeg', 5)),
      await get('/meta'),
    ]) {
      expectError(res, 503, 'unavailable', /Elasticsearch/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('is alive but not ready, and says why', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    const body = ready.json<{ status: string; missing: string[]; checks: Record<string, boolean> }>();
    expect(body.status).toBe('not_ready');
    expect(body.checks).toEqual({ elasticsearch: false, index: false, model: true });
    expect(body.missing.join(' ')).toMatch(/elasticsearch: .* is unreachable/);
  });
});

describe('overload', () => {
  it('queues model runs up to MAX_QUEUED_QUERIES and answers 503 overloaded past that', async () => {
    const busy = await startStubServer({ MAX_CONCURRENT_INFERENCES: '1', MAX_QUEUED_QUERIES: '1' });
    try {
      let open!: () => void;
      busy.model.gate.wait = new Promise((r) => {
        open = r;
      });
      const running = rawRequest(busy.base, '/search/text?q=one');
      await new Promise((r) => setTimeout(r, 50));
      const queued = rawRequest(busy.base, '/search/text?q=two');
      await new Promise((r) => setTimeout(r, 50));
      const refused = await rawRequest(busy.base, '/search/text?q=three');
      expectError(refused, 503, 'overloaded', /busy/);
      expect(refused.headers['retry-after']).toBe('1');
      open();
      // Both admitted queries ran the model (and then met the missing cluster).
      expect((await running).status).toBe(503);
      expect((await queued).status).toBe(503);
      expect(busy.model.textCalls.map((c) => c[0])).toEqual(['one', 'two']);
    } finally {
      await busy.close();
    }
  });
});

describe('other routes', () => {
  it('answers unknown routes with a JSON 404', async () => {
    expectError(await get('/nope'), 404, 'not_found', /no route GET \/nope/);
  });

  it('publishes an OpenAPI document generated from the schemas at /docs', async () => {
    const res = await get('/docs');
    expect(res.status).toBe(200);
    const spec = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/search/text', '/search/image', '/search/similar/{id}', '/meta', '/readyz']),
    );
    const text = spec.paths['/search/text'].get as {
      parameters: Array<{ name: string; schema: { maximum?: number } }>;
    };
    expect(text.parameters.find((p) => p.name === 'k')?.schema.maximum).toBe(100);
    const page = await get('/docs', { Accept: 'text/html' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.toString()).toContain('/search/text');
  });

  it('never answers an odd request with a 500', async () => {
    const odd = [
      await get('/search/text?q=%'),
      await get('/search/text?q=%E0%A4%A'),
      await get('/search/similar/%ZZ'),
      await get(`/search/similar/${'a'.repeat(5000)}`),
      await postJson('/search/text', '{"text": "red", "__proto__": {"x": 1}}'),
      await postJson('/search/text', '{"constructor": {"prototype": {}}}'),
      await postJson('/search/text', 'x'.repeat(2 * 1024 * 1024)),
      await rawRequest(server.base, '/search/image', {
        method: 'POST',
        body: 'garbage',
        headers: { 'Content-Type': 'multipart/form-data; boundary=zzz' },
      }),
      await rawRequest(server.base, '/search/image', {
        method: 'POST',
        body: '',
        headers: { 'Content-Type': 'multipart/form-data' },
      }),
    ];
    for (const res of odd) {
      // Some of these are valid enough to reach the (missing) cluster: a 503, never a 500.
      const { error } = res.json<{ error: string }>();
      if (res.status === 503) expect(error).toBe('unavailable');
      else expect(res.status, error).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });
});
