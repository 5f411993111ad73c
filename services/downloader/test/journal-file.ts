// Reading the downloader's journal as a test sees it: the latest record of each URL.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { UrlRecord } from '../src/records.ts';

export async function latestRecords(outputDir: string): Promise<Map<string, UrlRecord>> {
  const text = await readFile(path.join(outputDir, '.downloader', 'records.jsonl'), 'utf8');
  const byUrl = new Map<string, UrlRecord>();
  for (const line of text.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as UrlRecord;
    byUrl.set(r.url, r);
  }
  return byUrl;
}
