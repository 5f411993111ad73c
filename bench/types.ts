// The shape every benchmark program returns, so `pnpm bench` can tabulate, chart and compare them.
export interface BenchFigure {
  /** What was measured, e.g. 'image tower rn50 batch 32'. */
  name: string;
  value: number;
  /** 'img/s', 'ms', 'MB', 'x' … */
  unit: string;
  /** The same-run reference this figure is judged against (the model alone, raw kNN, curl --parallel …). */
  baseline?: { name: string; value: number };
  /** value ÷ baseline (or as the issue defines it). */
  ratio?: number;
  /** The goal in words, e.g. '≥ 0.9' or '≤ 5 ms'. */
  target?: string;
  /** Repetitions after warm-up; the value is their median. */
  samples?: number[];
}

export interface BenchOptions {
  quick: boolean;
  /** A program's own `--name value` flags when it runs alone (see runIfMain). */
  flags?: Record<string, string | undefined>;
}

export type BenchProgram = (opts: BenchOptions) => Promise<BenchFigure[]>;
