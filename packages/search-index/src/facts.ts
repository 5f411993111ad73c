// Documents indexed before the embedder read what it now reads about a picture, a page at a time, for the back-fill.
import type { Client } from '@elastic/elasticsearch';
import { call } from './errors.ts';
import { FACTS_VERSION } from './mapping.ts';

export interface StaleDoc {
  id: string;
  path: string;
}

/**
 * Up to `size` documents whose facts_version is missing or older than FACTS_VERSION, in path order after `after`.
 * Paging by path (not by position) keeps the walk correct while the back-fill updates what it has read.
 */
export async function docsLackingFacts(
  client: Client,
  index: string,
  opts: { after?: string; size?: number } = {},
): Promise<StaleDoc[]> {
  const res = await call('docs lacking facts', () =>
    client.search<{ path: string }>({
      index,
      size: opts.size ?? 500,
      _source: ['path'],
      query: { bool: { must_not: [{ range: { facts_version: { gte: FACTS_VERSION } } }] } },
      sort: [{ path: 'asc' }],
      ...(opts.after === undefined ? {} : { search_after: [opts.after] }),
    }),
  );
  return res.hits.hits.map((h) => ({ id: h._id as string, path: (h._source as { path: string }).path }));
}
