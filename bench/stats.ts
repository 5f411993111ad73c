// Order statistics for benchmark samples: medians and spreads, never means of noisy timings.
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** Relative spread (p90 − p10) / median, as a fraction: how much to trust a median. */
export function spread(samples: readonly number[]): number {
  const m = median(samples);
  return m === 0 ? 0 : (quantile(samples, 0.9) - quantile(samples, 0.1)) / m;
}

/** Times `fn` `reps` times after `warmup` unmeasured runs; returns milliseconds per run. */
export async function timeRuns(fn: () => Promise<unknown> | unknown, reps: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}
