// The prompt, the "How many images" slider, Search, and the way in for a search by picture.
import { type FormEvent, useId, useRef } from 'react';
import { K_MAX, K_MIN } from '../url-state.ts';

export interface SearchFormProps {
  text: string;
  k: number;
  busy: boolean;
  onTextChange(text: string): void;
  onKChange(k: number): void;
  onSearch(text: string, k: number): void;
  onPicture(file: File): void;
}

export function SearchForm({ text, k, busy, onTextChange, onKChange, onSearch, onPicture }: SearchFormProps) {
  const sliderId = useId();
  const fileInput = useRef<HTMLInputElement>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const q = text.trim();
    if (q) onSearch(q, k);
  }

  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is unknown to Safari < 17 and to happy-dom; role="search" is the same landmark
    <form className="search-form" role="search" onSubmit={submit}>
      <div className="search-row">
        <input
          className="prompt"
          type="search"
          name="q"
          aria-label="Describe the pictures you are looking for"
          placeholder="sunset over mountains"
          autoComplete="off"
          maxLength={1000}
          value={text}
          onChange={(e) => onTextChange(e.target.value)}
        />
        <button type="submit" className="primary" disabled={!text.trim()} aria-busy={busy}>
          Search
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => fileInput.current?.click()}
          title="Search with a picture: choose a file, drop one on the page, or paste one"
        >
          <svg
            className="icon"
            viewBox="0 0 24 24"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
          >
            <rect x="3" y="4" width="18" height="16" rx="2" />
            <circle cx="9" cy="10" r="2" />
            <path d="m21 16-5-5-9 9" />
          </svg>
          Search by picture
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="image/*"
          hidden
          aria-label="Choose a picture to search with"
          data-testid="picture-input"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) onPicture(file);
          }}
        />
      </div>
      <div className="k-row">
        <label htmlFor={sliderId}>How many images</label>
        <input
          id={sliderId}
          type="range"
          min={K_MIN}
          max={K_MAX}
          step={1}
          value={k}
          onChange={(e) => onKChange(Number(e.target.value))}
        />
        <output htmlFor={sliderId} aria-live="off">
          {k}
        </output>
      </div>
      <p className="drop-hint">Or drop a picture anywhere on the page, or paste one.</p>
    </form>
  );
}
