// Lets each benchmark program run alone (`pnpm exec tsx bench/<area>.ts [--quick]`) and print its figures.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchFigure, BenchProgram } from './types.ts';

export function figuresTable(figures: BenchFigure[]): string {
  const rows = [
    ['figure', 'value', 'same-run baseline', 'ratio', 'target'],
    ...figures.map((f) => [
      f.name,
      `${Number(f.value.toPrecision(4))} ${f.unit}`,
      f.baseline ? `${f.baseline.name}: ${Number(f.baseline.value.toPrecision(4))}` : '',
      f.ratio !== undefined ? `${f.ratio.toFixed(2)}×` : '',
      f.target ?? '',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * Runs `run` and prints its table when `moduleUrl` is the program node was started with. `valueFlags` names the
 * program's own `--name value` flags (e.g. a scale), handed to it in `flags`; any other flag is refused.
 */
export async function runIfMain(moduleUrl: string, run: BenchProgram, valueFlags: string[] = []): Promise<void> {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const own = Object.fromEntries(valueFlags.map((name) => [name, { type: 'string' as const }]));
  const { quick, ...flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, ...own } }).values;
  const figures = await run({ quick, flags: flags as Record<string, string | undefined> });
  process.stdout.write(figuresTable(figures));
}
