// The "refine" field: "+night -people" as weighted parts for POST /search/combine. A term is a word or a "quoted
// phrase"; "+" (or no sign) pulls towards it, "-" away from it, each at half the weight of the search itself.
import type { CombinePart } from '@image-search/api-contract';

export const REFINE_WEIGHT = 0.5;

const TERM = /([+\-−]?)(?:"([^"]+)"|([^\s"]+))/g;

export function refineParts(refine: string): CombinePart[] {
  const parts: CombinePart[] = [];
  for (const m of refine.matchAll(TERM)) {
    const text = (m[2] ?? m[3] ?? '').trim();
    if (!text || /^[+\-−]+$/.test(text)) continue;
    parts.push({ text, weight: m[1] === '-' || m[1] === '−' ? -REFINE_WEIGHT : REFINE_WEIGHT });
  }
  return parts;
}
