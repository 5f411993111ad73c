// Best match first, or newest / oldest first among the good matches.
import type { Sort } from '@image-search/api-contract';
import { useId } from 'react';
import { SORT_LABELS } from '../search-options.ts';

export function SortToggle({ value, onChange }: { value: Sort; onChange(sort: Sort): void }) {
  const name = useId();
  return (
    <fieldset className="control toggle">
      <legend>Order</legend>
      {(Object.keys(SORT_LABELS) as Sort[]).map((s) => (
        <label key={s} className={s === value ? 'on' : undefined}>
          <input type="radio" name={name} value={s} checked={s === value} onChange={() => onChange(s)} />
          {SORT_LABELS[s]}
        </label>
      ))}
    </fieldset>
  );
}
