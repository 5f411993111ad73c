// bulkWrite's answer to a busy cluster, at the client seam: items refused with 429 are sent again (only they), and
// are reported failed once the retries are spent; other item errors are reported at once.
import { describe, expect, it } from 'vitest';
import { type BulkOp, bulkWrite, type Client } from '../src/index.ts';

/** A client whose _bulk answers each item with the next status its script gives for that id (then 201). */
function scriptedClient(script: Record<string, number[]>) {
  const sent: string[][] = [];
  const client = {
    bulk: async ({ operations }: { operations: Array<{ delete?: { _id: string } }> }) => {
      const ids = operations.flatMap((o) => (o.delete ? [o.delete._id] : []));
      sent.push(ids);
      return {
        items: ids.map((id) => {
          const status = script[id]?.shift() ?? 200;
          return { delete: { _id: id, status, ...(status >= 300 && { error: { type: 'busy', reason: id } }) } };
        }),
      };
    },
  } as unknown as Client;
  return { client, sent };
}

const del = (id: string): BulkOp => ({ id, delete: true });

describe('bulk writes', () => {
  it('sends again only the items refused with 429, until they pass', async () => {
    const { client, sent } = scriptedClient({ b: [429, 429] });
    const res = await bulkWrite(client, 'images', [del('a'), del('b'), del('c')], { retries: 2 });
    expect(res).toEqual({ ok: 3, failed: [] });
    expect(sent).toEqual([['a', 'b', 'c'], ['b'], ['b']]);
  });

  it('reports items still refused after the retries, and other refusals at once', async () => {
    const { client, sent } = scriptedClient({ a: [400], b: [429, 429, 429] });
    const res = await bulkWrite(client, 'images', [del('a'), del('b')], { retries: 1 });
    expect(res.ok).toBe(0);
    expect(res.failed).toEqual([
      { id: 'a', status: 400, reason: 'busy: a' },
      { id: 'b', status: 429, reason: 'busy: b' },
    ]);
    expect(sent).toEqual([['a', 'b'], ['b']]);
  });
});
