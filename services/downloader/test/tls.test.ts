// HTTPS through the same dispatcher: a picture behind a trusted certificate is fetched; a certificate that cannot be
// trusted is a permanent `tls` failure (trying again within the round would not help).
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../src/dispatcher.ts';
import { fetchImageOnce } from '../src/fetch-image.ts';
import { makePictures, type Pictures } from './fault-server.ts';

const cert = readFileSync(new URL('./tls/cert.pem', import.meta.url));
const key = readFileSync(new URL('./tls/key.pem', import.meta.url));

let server: https.Server;
let base: string;
let pictures: Pictures;
let dir: string;

beforeAll(async () => {
  pictures = await makePictures();
  server = https.createServer({ cert, key }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': pictures.png.length });
    res.end(pictures.png);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(os.tmpdir(), 'downloader-tls-'));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const options = (dispatcher: Agent | ReturnType<typeof createDispatcher>) => ({
  dispatcher,
  userAgent: 'downloader-test',
  maxBytes: 1 << 20,
  tempDir: dir,
  stem: '0123456789abcdef',
  timeoutMs: 5000,
  minBytesPerSecond: 0,
  rateWindowMs: 1000,
  signal: new AbortController().signal,
});

describe('HTTPS', () => {
  it('fetches a picture behind a trusted certificate', async () => {
    const dispatcher = new Agent({ connect: { ca: cert } });
    try {
      const got = await fetchImageOnce(new URL(`${base}/a.png`), options(dispatcher));
      expect(got).toMatchObject({ ok: true, bytes: pictures.png.length });
      if (got.ok) expect(await readFile(got.tmp)).toEqual(pictures.png);
    } finally {
      await dispatcher.close();
    }
  });

  it('fails a self-signed certificate as a permanent tls failure', async () => {
    const dispatcher = createDispatcher({ perHostConcurrency: 1, timeoutMs: 5000 });
    try {
      const got = await fetchImageOnce(new URL(`${base}/a.png`), options(dispatcher));
      expect(got).toMatchObject({ ok: false, reason: 'tls', retryable: false });
    } finally {
      await dispatcher.close();
    }
  });
});
