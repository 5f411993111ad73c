// One result, large: the full picture, its size, where it came from, and "More like this".
// A native <dialog> gives focus trapping, Escape and the backdrop; ← and → step through the results (→ on the last
// fetches more when there are more); closing it puts focus on the result last shown.
import { useEffect, useRef } from 'react';
import { apiAsset, type Hit, hitName, thumbnailSrc } from '../api.ts';

export interface LightboxProps {
  hits: Hit[];
  index: number | null;
  onIndexChange(index: number | null): void;
  onMoreLikeThis(hit: Hit): void;
  /** → on the last picture while more results can come: fetch them (instead of going round to the first). */
  onPastEnd?: () => void;
}

export function Lightbox({ hits, index, onIndexChange, onMoreLikeThis, onPastEnd }: LightboxProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const shown = useRef<string | null>(null);
  const hit = index === null ? undefined : hits[index];

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (hit && !d.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!hit && d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
      // Keyboard users go back to the result they last saw (it may be another than the one they opened).
      const seen = shown.current && document.querySelector<HTMLElement>(`[data-hit-id="${shown.current}"]`);
      if (seen) seen.focus();
      else if (opener.current?.isConnected) opener.current.focus();
      opener.current = null;
    }
    if (hit) shown.current = hit.id;
  }, [hit]);

  const step = (delta: number) => {
    if (index === null || hits.length === 0) return;
    if (delta > 0 && index === hits.length - 1 && onPastEnd) onPastEnd();
    else onIndexChange((index + delta + hits.length) % hits.length);
  };

  const name = hit ? hitName(hit) : '';
  const full = hit ? (apiAsset(hit.url) ?? '') : '';

  return (
    <dialog
      ref={dialog}
      className="lightbox"
      aria-label={hit ? `Picture ${name}` : 'Picture'}
      onClose={() => onIndexChange(null)}
      onCancel={(e) => {
        e.preventDefault();
        onIndexChange(null);
      }}
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight') step(1);
        else if (e.key === 'ArrowLeft') step(-1);
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog itself.
        if (e.target === e.currentTarget) onIndexChange(null);
      }}
    >
      {hit && (
        <div className="lightbox-body">
          <figure>
            <img
              key={hit.id}
              className="full"
              src={full}
              alt={name}
              width={hit.width || undefined}
              height={hit.height || undefined}
              style={{ backgroundImage: `url("${thumbnailSrc(hit)}")` }}
            />
            <figcaption>
              <h2>{name}</h2>
              <dl className="facts">
                <dt>Size</dt>
                <dd>
                  {hit.width} × {hit.height} px
                </dd>
                <dt>Score</dt>
                <dd>{hit.score.toFixed(3)}</dd>
                <dt>Source</dt>
                <dd>
                  {hit.source_url ? (
                    <a href={hit.source_url} target="_blank" rel="noreferrer noopener">
                      {hit.source_url}
                    </a>
                  ) : (
                    'unknown'
                  )}
                </dd>
              </dl>
              <div className="lightbox-actions">
                <button type="button" className="primary" onClick={() => onMoreLikeThis(hit)}>
                  More like this
                </button>
                <a className="button secondary" href={full} target="_blank" rel="noreferrer">
                  Open full size
                </a>
              </div>
            </figcaption>
          </figure>
          <div className="lightbox-nav">
            <button type="button" onClick={() => step(-1)} aria-label="Previous picture" disabled={hits.length < 2}>
              ‹
            </button>
            <span>
              {(index ?? 0) + 1} / {hits.length}
            </span>
            <button type="button" onClick={() => step(1)} aria-label="Next picture" disabled={hits.length < 2}>
              ›
            </button>
          </div>
          <button type="button" className="close" onClick={() => onIndexChange(null)} aria-label="Close">
            ×
          </button>
        </div>
      )}
    </dialog>
  );
}
