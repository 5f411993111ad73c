// A date range on when pictures were taken (EXIF) or added to the collection; a bare day includes that day.
import { useId } from 'react';
import type { Filters } from '../search-options.ts';

export type DateField = 'taken' | 'added';

/** The field a range is on: added when the URL names an added date, otherwise taken. */
export function dateFieldOf(f: Filters): DateField {
  return f.added_from || f.added_to ? 'added' : 'taken';
}

/** The filters with the range [from, to] on `field` (and none on the other field). */
export function withRange(f: Filters, field: DateField, from?: string, to?: string): Filters {
  const { taken_from, taken_to, added_from, added_to, ...rest } = f;
  return field === 'taken'
    ? { ...rest, taken_from: from || undefined, taken_to: to || undefined }
    : { ...rest, added_from: from || undefined, added_to: to || undefined };
}

export function rangeOf(f: Filters, field: DateField): { from?: string; to?: string } {
  return field === 'taken' ? { from: f.taken_from, to: f.taken_to } : { from: f.added_from, to: f.added_to };
}

export interface DateRangeProps {
  field: DateField;
  filters: Filters;
  onFieldChange(field: DateField): void;
  onChange(filters: Filters): void;
}

export function DateRange({ field, filters, onFieldChange, onChange }: DateRangeProps) {
  const id = useId();
  const { from, to } = rangeOf(filters, field);
  return (
    <fieldset className="control dates">
      <legend>Dates</legend>
      <select
        aria-label="Which date"
        value={field}
        onChange={(e) => {
          const next = e.target.value as DateField;
          onFieldChange(next);
          if (from || to) onChange(withRange(withRange(filters, field), next, from, to));
        }}
      >
        <option value="taken">Taken</option>
        <option value="added">Added</option>
      </select>
      <label htmlFor={`${id}-from`}>from</label>
      <input
        id={`${id}-from`}
        type="date"
        value={from ?? ''}
        onChange={(e) => onChange(withRange(filters, field, e.target.value, to))}
      />
      <label htmlFor={`${id}-to`}>to</label>
      <input
        id={`${id}-to`}
        type="date"
        value={to ?? ''}
        onChange={(e) => onChange(withRange(filters, field, from, e.target.value))}
      />
      {(from || to) && (
        <button type="button" className="link" onClick={() => onChange(withRange(filters, field))}>
          Any date
        </button>
      )}
    </fieldset>
  );
}
