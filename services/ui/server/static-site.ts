// The built page, held in memory (it is a few hundred kilobytes): each file with its type, ETag and a gzip copy.
// Only files found in dist/ at start can be served, so no request path can reach anything else.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

function makeAsset(rel: string, body: Buffer): Asset {
  const type = TYPES[path.extname(rel)] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
  return {
    body,
    gzip: compressible ? gzipSync(body, { level: 9 }) : null,
    type,
    etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
    // Vite puts a content hash in every file name under assets/; everything else may change on the next build.
    cacheControl: rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    // Dot files (the build's source hash) are bookkeeping, not part of the site.
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

export interface StaticSite {
  /** Answers GET/HEAD for a built file, or the page itself for any other path (client-side routes). */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): void;
}

/** Loads dist/ and writes TOP_K into the page so the slider starts where the operator set it. */
export async function loadStaticSite(distDir: string, opts: { topK: number }): Promise<StaticSite> {
  const assets = new Map<string, Asset>();
  for (const rel of await listFiles(distDir)) {
    let body = await readFile(path.join(distDir, rel));
    if (rel === 'index.html') {
      body = Buffer.from(
        body.toString('utf8').replace(/(<meta name="image-search-top-k" content=")[^"]*(")/, `$1${opts.topK}$2`),
      );
    }
    assets.set(rel, makeAsset(rel, body));
  }
  const page = assets.get('index.html');
  if (!page) throw new Error(`${distDir}/index.html is missing: run "pnpm --filter @image-search/ui build"`);

  return {
    serve(req, res, pathname) {
      let rel = pathname.replace(/^\/+/, '');
      let asset = assets.get(rel);
      if (!asset) {
        // A missing hashed asset is an old build's file: a 404 is honest, the page would be served as JS otherwise.
        if (rel.startsWith('assets/') || path.extname(rel) !== '') {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
          return;
        }
        rel = 'index.html';
        asset = page;
      }
      const headers: Record<string, string | number> = {
        'content-type': asset.type,
        'cache-control': asset.cacheControl,
        etag: asset.etag,
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
      };
      if (rel === 'index.html') headers['referrer-policy'] = 'no-referrer';
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers).end();
        return;
      }
      const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? asset.gzip! : asset.body;
      if (gzip) headers['content-encoding'] = 'gzip';
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
