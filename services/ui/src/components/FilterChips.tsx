// Filter chips from the facet counts of the search on the page (words, a picture, "more like this", refine terms): a
// chip turns its filter on or off. Each group's counts leave out its own filter, so the other values of a group stay
// on offer while a chip in it is on; chips that are on stay shown even when the counts do not list them, so they can
// be turned off again. A year chip is the `year`
// filter (the year taken, else added, as the counts have it), not the date range, which stays on its own field.
import type { Facets, Format } from '@image-search/api-contract';
import type { Filters } from '../search-options.ts';
import { toggleIn } from '../search-options.ts';

export interface FilterChipsProps {
  facets: Facets | null;
  filters: Filters;
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

function chipsOf(group: keyof Facets, facets: Facets | null, f: Filters): Chip[] {
  const counts = new Map((facets?.[group] ?? []).map((b) => [b.value, b.count]));
  const selected: Array<string | undefined> = (group === 'folder' ? [f.folder] : f[group]) ?? [];
  const isOn = (value: string): boolean => selected.includes(value);
  const toggle = (value: string): Filters => {
    if (group === 'host') return { ...f, host: toggleIn(f.host, value) };
    if (group === 'format') return { ...f, format: toggleIn(f.format, value as Format) };
    if (group === 'year') return { ...f, year: toggleIn(f.year, value) };
    return { ...f, folder: isOn(value) ? undefined : value };
  };
  // The top folder ("") is not a filter: every picture is in it.
  const values = new Set([...counts.keys(), ...selected].filter((v): v is string => Boolean(v)));
  return [...values].map((value) => ({
    value,
    count: counts.get(value),
    on: isOn(value),
    toggle: () => toggle(value),
  }));
}

const pictures = (n: number) => `${n} picture${n === 1 ? '' : 's'}`;

export function FilterChips({ facets, filters, onChange }: FilterChipsProps) {
  const groups = (Object.keys(GROUPS) as Array<keyof Facets>)
    .map((g) => [g, chipsOf(g, facets, filters)] as const)
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
              aria-label={`${GROUPS[group]} ${c.value}${c.count === undefined ? '' : `, ${pictures(c.count)}`}`}
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
