import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../src/backoff.ts';

describe('backoffDelay', () => {
  const opts = { baseMs: 1000, maxMs: 30_000 };

  it('doubles per retry between half and all of the ceiling, and never passes the cap', () => {
    expect(backoffDelay(0, { ...opts, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...opts, random: () => 0.999999 })).toBe(1000);
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(1000);
    expect(backoffDelay(3, { ...opts, random: () => 0.5 })).toBe(6000);
    expect(backoffDelay(10, { ...opts, random: () => 0.999999 })).toBe(30_000);
    expect(backoffDelay(10, { ...opts, random: () => 0 })).toBe(15_000);
  });

  it('spreads retries of the same step (jitter)', () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffDelay(2, opts)));
    expect(waits.size).toBeGreaterThan(10);
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(2000);
      expect(w).toBeLessThanOrEqual(4000);
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });
});
