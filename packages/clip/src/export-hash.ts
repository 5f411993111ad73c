// Which export a model folder holds, as a short hash of model.json and the files it names: an index records it, so a
// service can tell that the towers it loaded are the ones the index's vectors came from (re-exporting other weights
// under the same name changes it).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readManifest } from './manifest.ts';

/** 16 hex digits of SHA-256 over model.json, visual, textual and vocabulary, in that order. */
export async function exportHash(dir: string): Promise<string> {
  const { files } = await readManifest(dir);
  const hash = createHash('sha256');
  for (const file of [MANIFEST_FILE, files.visual, files.textual, files.vocab]) {
    for await (const chunk of createReadStream(path.join(dir, file))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex').slice(0, 16);
}
