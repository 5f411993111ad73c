// "Refine": plus and minus terms that pull the search towards or away from words ("+night -people").
import { type FormEvent, useId } from 'react';

export interface RefineFieldProps {
  value: string;
  /** A picture that is not indexed cannot be combined with words. */
  disabled: boolean;
  onChange(value: string): void;
  onApply(value: string): void;
}

export function RefineField({ value, disabled, onChange, onApply }: RefineFieldProps) {
  const id = useId();
  function submit(e: FormEvent) {
    e.preventDefault();
    onApply(value.trim());
  }
  return (
    <form className="refine" onSubmit={submit}>
      <label htmlFor={id}>Refine</label>
      <input
        id={id}
        type="text"
        name="refine"
        placeholder='+night -people +"red roof"'
        autoComplete="off"
        aria-describedby={`${id}-hint`}
        maxLength={500}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
      />
      <button type="submit" className="secondary" disabled={disabled}>
        Apply
      </button>
      <span id={`${id}-hint`} className="hint">
        {disabled ? 'Searches by an uploaded picture cannot be refined.' : '+ more like, − less like'}
      </span>
    </form>
  );
}
