// Reading the downloader's journal as a test sees it: the latest record of each URL.
import { readFile } from 'node:fs/promises';
import { journalFile, type PictureRecord, parseRecord } from '@image-search/picture-store';

export async function latestRecords(outputDir: string): Promise<Map<string, PictureRecord>> {
  const text = await readFile(journalFile(outputDir), 'utf8');
  const byUrl = new Map<string, PictureRecord>();
  for (const line of text.split('\n').filter(Boolean)) {
    const r = parseRecord(line);
    if (r) byUrl.set(r.url, r);
  }
  return byUrl;
}
