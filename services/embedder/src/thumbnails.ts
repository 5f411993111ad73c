// Thumbnails live beside the index as <THUMBNAILS_DIR>/<id>.webp, written atomically so a crash never leaves half a file.
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function thumbnailName(id: string): string {
  return `${id}.webp`;
}

export async function writeThumbnail(dir: string, id: string, data: Buffer): Promise<void> {
  const final = path.join(dir, thumbnailName(id));
  const tmp = path.join(dir, `.${thumbnailName(id)}.tmp-${process.pid}`);
  await writeFile(tmp, data);
  await rename(tmp, final);
}

export async function removeThumbnail(dir: string, id: string): Promise<void> {
  await rm(path.join(dir, thumbnailName(id)), { force: true });
}
