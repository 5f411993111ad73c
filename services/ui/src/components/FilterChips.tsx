// Filter chips from the facet counts of the text being searched: a chip turns its filter on or off. Chips that are on
// stay shown even when the counts no longer list them, so they can be turned off again.
import type { Facets, Format } from '@image-search/api-contract';
import type { Filters } from '../search-options.ts';
import { toggleIn } from '../search-options.ts';
import { type DateField, rangeOf, withRange } from './DateRange.tsx';

export interface FilterChipsProps {
  facets: Facets | null;
  error: string | null;
  filters: Filters;
  dateField: DateField;
  onChange(filters: Filters): void;
}

interface Chip {
  value: string;
  count?: number;
  on: boolean;
  toggle(): Filters;
}

const GROUPS = { host: 'Site', folder: 'Folder', format: 'Format', year: 'Year' } as const satisfies Record<
  keyof Facets,
  string
>;

function chipsOf(group: keyof Facets, facets: Facets | null, f: Filters, dateField: DateField): Chip[] {
  const counts = new Map((facets?.[group] ?? []).map((b) => [b.value, b.count]));
  const range = rangeOf(f, dateField);
  const isOn = (value: string): boolean => {
    if (group === 'host') return f.host?.includes(value) ?? false;
    if (group === 'format') return f.format?.includes(value as Format) ?? false;
    if (group === 'folder') return f.folder === value;
    return range.from === `${value}-01-01` && range.to === `${value}-12-31`;
  };
  const toggle = (value: string): Filters => {
    const on = isOn(value);
    if (group === 'host') return { ...f, host: toggleIn(f.host, value) };
    if (group === 'format') return { ...f, format: toggleIn(f.format, value as Format) };
    if (group === 'folder') return { ...f, folder: on ? undefined : value };
    return on ? withRange(f, dateField) : withRange(f, dateField, `${value}-01-01`, `${value}-12-31`);
  };
  const selected = group === 'host' ? f.host : group === 'format' ? f.format : group === 'folder' ? [f.folder] : [];
  // The top folder ("") is not a filter: every picture is in it.
  const values = new Set([...counts.keys(), ...(selected ?? [])].filter((v): v is string => Boolean(v)));
  return [...values].map((value) => ({
    value,
    count: counts.get(value),
    on: isOn(value),
    toggle: () => toggle(value),
  }));
}

export function FilterChips({ facets, error, filters, dateField, onChange }: FilterChipsProps) {
  if (error) return <p className="chips-error">Filters are not available: {error}</p>;
  const groups = (Object.keys(GROUPS) as Array<keyof Facets>)
    .map((g) => [g, chipsOf(g, facets, filters, dateField)] as const)
    .filter(([, chips]) => chips.length > 0);
  if (groups.length === 0) return null;
  return (
    <section className="chips" aria-label="Filters">
      {groups.map(([group, chips]) => (
        <fieldset key={group} className="chip-group">
          <legend>{GROUPS[group]}</legend>
          {chips.map((c) => (
            <button
              key={c.value}
              type="button"
              className="chip"
              aria-pressed={c.on}
              aria-label={`${GROUPS[group]} ${c.value}${c.count === undefined ? '' : `, ${c.count} pictures`}`}
              onClick={() => onChange(c.toggle())}
            >
              {c.value}
              {c.count !== undefined && <span className="count">{c.count}</span>}
            </button>
          ))}
        </fieldset>
      ))}
    </section>
  );
}
