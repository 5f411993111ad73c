// The results: thumbnails in a grid (four columns on a wide screen, fewer on narrow ones), each with its score.
// Arrow keys move between pictures (up and down by a row), Home and End to the first and last; Enter opens one.
import type { KeyboardEvent } from 'react';
import { apiAsset, type Hit, hitName, thumbnailSrc } from '../api.ts';
import { columnsOf, gridStep } from '../grid-keys.ts';

export interface ResultGridProps {
  hits: Hit[];
  stale: boolean;
  onOpen(index: number): void;
}

function moveFocus(e: KeyboardEvent<HTMLOListElement>) {
  const buttons = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('.card-button'));
  const index = buttons.indexOf(e.target as HTMLElement);
  if (index === -1) return;
  const columns = columnsOf(buttons.map((b) => b.getBoundingClientRect().top));
  const next = gridStep(e.key, index, buttons.length, columns);
  if (next === null) return;
  e.preventDefault();
  buttons[next]?.focus();
}

export function ResultGrid({ hits, stale, onOpen }: ResultGridProps) {
  return (
    <ol className={stale ? 'grid stale' : 'grid'} aria-label="Results" onKeyDown={moveFocus}>
      {hits.map((hit, i) => {
        const name = hitName(hit);
        return (
          <li key={hit.id} className="card">
            <button
              type="button"
              className="card-button"
              data-hit-id={hit.id}
              onClick={() => onOpen(i)}
              aria-label={`${name}, score ${hit.score.toFixed(3)}: open`}
            >
              <img
                src={thumbnailSrc(hit)}
                alt={name}
                width={hit.width || undefined}
                height={hit.height || undefined}
                decoding="async"
                // A page is at most 20 pictures, all wanted at once, so no lazy loading.
                loading="eager"
                onError={(e) => {
                  // A missing thumbnail (not made yet, or removed) should not leave a hole: show the picture itself.
                  const full = apiAsset(hit.url);
                  if (full && e.currentTarget.getAttribute('src') !== full) e.currentTarget.src = full;
                }}
              />
            </button>
            <div className="caption">
              <span className="score" title="Similarity score">
                {hit.score.toFixed(3)}
              </span>
              <span className="name" title={name}>
                {name}
              </span>
            </div>
          </li>
        );
      })}
    </ol>
  );
}

export function GridSkeleton({ count }: { count: number }) {
  return (
    <ol className="grid" aria-hidden="true">
      {Array.from({ length: count }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
        <li key={i} className="card skeleton" />
      ))}
    </ol>
  );
}
