// Index documents as the API's JSON hits: links the browser can follow to this server's file routes.
import path from 'node:path';
import type { Hit } from '@image-search/api-contract';
import type { SearchHit } from '@image-search/search-index';

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/**
 * `/images/<path relative to IMAGES_DIR>`. The embedder may store paths relative to IMAGES_DIR or absolute under it;
 * anything else falls back to the file name, which is where the downloader puts every picture.
 */
export function imageUrl(docPath: string, fileName: string, imagesDir: string): string {
  const posix = docPath.split(path.sep).join('/');
  let rel: string;
  if (path.isAbsolute(docPath)) {
    const r = path.relative(path.resolve(imagesDir), docPath);
    rel = r && !r.startsWith('..') && !path.isAbsolute(r) ? r.split(path.sep).join('/') : fileName;
  } else {
    rel = posix.replace(/^(\.\/)+/, '');
  }
  return `/images/${encodePath(rel)}`;
}

export function toHit(h: SearchHit, imagesDir: string): Hit {
  const d = h.doc;
  const fileName = d.file_name ?? path.basename(d.path ?? '');
  return {
    id: h.id,
    score: h.score,
    url: imageUrl(d.path ?? fileName, fileName, imagesDir),
    thumbnail_url: d.thumbnail ? `/thumbnails/${encodePath(d.thumbnail)}` : null,
    source_url: d.source_url ?? null,
    width: d.width,
    height: d.height,
    file_name: fileName,
    taken_at: d.taken_at ?? null,
    added_at: d.added_at ?? null,
    folder: d.folder ?? null,
    format: d.format ?? null,
    source_host: d.source_host ?? null,
  };
}
