// "Only strong matches": the min_score the UI offers for the model serving, from how its scores fall. CLIP's
// text-to-picture cosines sit low (a good match is about 0.25–0.35, so a score of 0.62–0.68), and vary by model.

/** Scores (0..1) above which a picture clearly matches a query, by model (name/pretrained). */
const STRONG_MATCH: Readonly<Record<string, number>> = {
  'RN50/openai': 0.62,
  'RN101/openai': 0.62,
  'ViT-B-32/openai': 0.63,
  'ViT-B-16/openai': 0.63,
  'ViT-L-14/openai': 0.62,
  'ViT-B-32/laion2b_s34b_b79k': 0.64,
  'ViT-H-14/laion2b_s32b_b79k': 0.64,
};

/** The synthetic test models map a colour word right onto its colour: a match is far closer than with real CLIP. */
const SYNTHETIC = 0.8;
const DEFAULT = 0.62;

export function strongMatchScore(model: string, synthetic: boolean): number {
  return STRONG_MATCH[model] ?? (synthetic ? SYNTHETIC : DEFAULT);
}
