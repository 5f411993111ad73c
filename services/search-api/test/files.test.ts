// GET /images/* and /thumbnails/*: what a browser needs (types, validators, ranges) and nothing outside the folders.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './http.ts';
import { startStubServer } from './stub-server.ts';

let root: string;
let server: Awaited<ReturnType<typeof startStubServer>>;
const picture = Buffer.from(Array.from({ length: 200 }, (_, i) => i));

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'search-api-files-'));
  const images = path.join(root, 'images');
  const thumbs = path.join(root, 'thumbnails');
  await mkdir(path.join(images, 'sub'), { recursive: true });
  await mkdir(path.join(images, '.downloader'), { recursive: true });
  await mkdir(thumbs);
  await writeFile(path.join(images, 'red.jpg'), picture);
  await writeFile(path.join(images, 'sub', 'blue car.png'), picture);
  await writeFile(path.join(images, 'photo.webp'), picture);
  await writeFile(path.join(images, '.downloader', 'state.json'), '{}');
  await writeFile(path.join(thumbs, 'abc.webp'), picture);
  await writeFile(path.join(root, 'secret.txt'), 'top secret');
  await symlink(path.join(root, 'secret.txt'), path.join(images, 'escape.jpg'));
  await symlink('../secret.txt', path.join(thumbs, 'escape.webp'));
  await symlink(root, path.join(images, 'rootlink'));
  await symlink(path.join(images, 'red.jpg'), path.join(images, 'alias.jpg'));
  server = await startStubServer({ IMAGES_DIR: images, THUMBNAILS_DIR: thumbs });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('serving files', () => {
  it('serves a picture with its type, length, validators and caching headers', async () => {
    const res = await rawRequest(server.base, '/images/red.jpg');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['content-length']).toBe('200');
    expect(res.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers['last-modified']).toBeTruthy();
    expect(res.headers['cache-control']).toContain('max-age=');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body.equals(picture)).toBe(true);
  });

  it('serves nested paths with encoded spaces, thumbnails as WebP, and symlinks that stay inside', async () => {
    const nested = await rawRequest(server.base, '/images/sub/blue%20car.png');
    expect(nested.status).toBe(200);
    expect(nested.headers['content-type']).toBe('image/png');
    const thumb = await rawRequest(server.base, '/thumbnails/abc.webp');
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect((await rawRequest(server.base, '/images/alias.jpg')).status).toBe(200);
  });

  it('answers 304 to a matching If-None-Match or a current If-Modified-Since', async () => {
    const first = await rawRequest(server.base, '/images/red.jpg');
    const etag = String(first.headers.etag);
    const byTag = await rawRequest(server.base, '/images/red.jpg', { headers: { 'If-None-Match': etag } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    const byDate = await rawRequest(server.base, '/images/red.jpg', {
      headers: { 'If-Modified-Since': String(first.headers['last-modified']) },
    });
    expect(byDate.status).toBe(304);
    const stale = await rawRequest(server.base, '/images/red.jpg', { headers: { 'If-None-Match': '"other"' } });
    expect(stale.status).toBe(200);
  });

  it('serves byte ranges with 206 and refuses ranges past the end with 416', async () => {
    const head = await rawRequest(server.base, '/images/red.jpg', { headers: { Range: 'bytes=0-9' } });
    expect(head.status).toBe(206);
    expect(head.headers['content-range']).toBe('bytes 0-9/200');
    expect(head.body.equals(picture.subarray(0, 10))).toBe(true);

    const tail = await rawRequest(server.base, '/images/red.jpg', { headers: { Range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(picture.subarray(195))).toBe(true);

    const open = await rawRequest(server.base, '/images/red.jpg', { headers: { Range: 'bytes=190-' } });
    expect(open.headers['content-range']).toBe('bytes 190-199/200');
    expect(open.body.length).toBe(10);

    const past = await rawRequest(server.base, '/images/red.jpg', { headers: { Range: 'bytes=500-600' } });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */200');

    const changed = await rawRequest(server.base, '/images/red.jpg', {
      headers: { Range: 'bytes=0-9', 'If-Range': '"stale"' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.length).toBe(200);

    const current = await rawRequest(server.base, '/images/red.jpg', {
      headers: { Range: 'bytes=0-9', 'If-Range': String(head.headers.etag) },
    });
    expect(current.status).toBe(206);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await rawRequest(server.base, '/images/red.jpg', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('200');
    expect(res.body.length).toBe(0);
  });

  const attempts = [
    '/images/../secret.txt',
    '/images/sub/../../secret.txt',
    '/images/%2e%2e/secret.txt',
    '/images/%2E%2E/secret.txt',
    '/images/.%2e/secret.txt',
    '/images/%2e%2e%2fsecret.txt',
    '/images/..%2fsecret.txt',
    '/images/..%5csecret.txt',
    '/images/..\\secret.txt',
    '/images/%252e%252e/secret.txt',
    '/images/%c0%ae%c0%ae/secret.txt',
    '/images//etc/passwd',
    '/images/%2fetc%2fpasswd',
    '/images/%2Fetc/passwd',
    '/images/red.jpg%00.png',
    '/images/red.jpg%00',
    '/images/escape.jpg',
    '/images/rootlink/secret.txt',
    '/images/.downloader/state.json',
    '/images/%2edownloader/state.json',
    '/images/',
    '/images/sub',
    '/images/missing.jpg',
    '/thumbnails/escape.webp',
    '/thumbnails/../images/red.jpg',
    '/thumbnails/%2e%2e/secret.txt',
  ];
  it.each(attempts)('404s %s', async (attempt) => {
    const res = await rawRequest(server.base, attempt);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('top secret');
    if (res.headers['content-type']?.startsWith('application/json')) {
      expect(res.json<{ error: string }>().error).toBe('not_found');
    }
  });
});
