// Reciprocal rank fusion of several rankings (the kNN one and the BM25 one), computed here because Elasticsearch's
// own RRF needs a paid licence.

/** Cormack et al.'s constant: a picture's fused score is Σ 1 / (RRF_RANK_CONSTANT + its rank in each list). */
export const RRF_RANK_CONSTANT = 60;

/**
 * Every item of the lists once (the same item in two lists has the same `keyOf`), by fused score (best first), ties
 * kept in the order first seen; its score replaced.
 */
export function reciprocalRankFusion<T extends { score: number }>(lists: T[][], keyOf: (item: T) => string): T[] {
  const fused = new Map<string, { item: T; score: number }>();
  for (const list of lists) {
    list.forEach((item, rank) => {
      const add = 1 / (RRF_RANK_CONSTANT + rank + 1);
      const key = keyOf(item);
      const had = fused.get(key);
      if (had) had.score += add;
      else fused.set(key, { item, score: add });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score).map(({ item, score }) => ({ ...item, score }));
}
