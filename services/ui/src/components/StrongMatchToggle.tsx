// "Only strong matches": a cutoff at the score /meta suggests for the model serving.
export interface StrongMatchToggleProps {
  checked: boolean;
  /** /meta's strong_match_score; null until /meta has answered. */
  score: number | null;
  /** Keyword scores are not similarities: the cutoff does not apply to them. */
  keyword: boolean;
  onChange(on: boolean): void;
}

export function StrongMatchToggle({ checked, score, keyword, onChange }: StrongMatchToggleProps) {
  const title = keyword
    ? 'Word matches have no similarity cutoff'
    : score === null
      ? undefined
      : `Pictures with a score of at least ${score.toFixed(3)}`;
  return (
    <label className="control check" title={title}>
      <input
        type="checkbox"
        checked={checked && !keyword}
        disabled={score === null || keyword}
        onChange={(e) => onChange(e.target.checked)}
      />
      Only strong matches
    </label>
  );
}
