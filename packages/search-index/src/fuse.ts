// Reciprocal rank fusion of several rankings (the kNN one and the BM25 one), computed here because Elasticsearch's
// own RRF needs a paid licence.
export interface Ranked {
  id: string;
}

/** Cormack et al.'s constant: a picture's fused score is Σ 1 / (RRF_RANK_CONSTANT + its rank in each list). */
export const RRF_RANK_CONSTANT = 60;

/** Every item of the lists once, by fused score (best first), ties kept in the order first seen; its score replaced. */
export function reciprocalRankFusion<T extends Ranked & { score: number }>(lists: T[][]): T[] {
  const fused = new Map<string, { item: T; score: number }>();
  for (const list of lists) {
    list.forEach((item, rank) => {
      const add = 1 / (RRF_RANK_CONSTANT + rank + 1);
      const had = fused.get(item.id);
      if (had) had.score += add;
      else fused.set(item.id, { item, score: add });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score).map(({ item, score }) => ({ ...item, score }));
}
