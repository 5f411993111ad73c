// How a text search matches: picture content (CLIP), words (file name, keywords, description), or both.
import type { Mode } from '@image-search/api-contract';
import { useId } from 'react';
import { MODE_LABELS } from '../search-options.ts';

export interface ModeSelectProps {
  value: Mode;
  /** Refine terms are combined as vectors, so a refined search matches by picture content. */
  refining: boolean;
  onChange(mode: Mode): void;
}

export function ModeSelect({ value, refining, onChange }: ModeSelectProps) {
  const id = useId();
  return (
    <div className="control">
      <label htmlFor={id}>Match by</label>
      <select
        id={id}
        value={refining ? 'vector' : value}
        disabled={refining}
        title={refining ? 'A refined search matches by picture content' : undefined}
        onChange={(e) => onChange(e.target.value as Mode)}
      >
        {(Object.keys(MODE_LABELS) as Mode[]).map((m) => (
          <option key={m} value={m}>
            {MODE_LABELS[m]}
          </option>
        ))}
      </select>
    </div>
  );
}
