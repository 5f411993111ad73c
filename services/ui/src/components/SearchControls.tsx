// The row of controls under the prompt: how to match, in which order, the cutoff, and the dates.
import type { SearchOptions } from '../search-options.ts';
import { type DateField, DateRange } from './DateRange.tsx';
import { ModeSelect } from './ModeSelect.tsx';
import { SortToggle } from './SortToggle.tsx';
import { StrongMatchToggle } from './StrongMatchToggle.tsx';

export interface SearchControlsProps {
  options: SearchOptions;
  /** Refine terms are on: the search is a combination, matched by picture content. */
  refining: boolean;
  strongScore: number | null;
  dateField: DateField;
  onDateFieldChange(field: DateField): void;
  onChange(options: SearchOptions): void;
}

export function SearchControls(p: SearchControlsProps) {
  const { options, onChange } = p;
  return (
    <div className="controls">
      <ModeSelect value={options.mode} refining={p.refining} onChange={(mode) => onChange({ ...options, mode })} />
      <SortToggle value={options.sort} onChange={(sort) => onChange({ ...options, sort })} />
      <StrongMatchToggle
        checked={options.strong}
        score={p.strongScore}
        keyword={options.mode === 'keyword' && !p.refining}
        onChange={(strong) => onChange({ ...options, strong })}
      />
      <DateRange
        field={p.dateField}
        filters={options.filters}
        onFieldChange={p.onDateFieldChange}
        onChange={(filters) => onChange({ ...options, filters })}
      />
    </div>
  );
}
