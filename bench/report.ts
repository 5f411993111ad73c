// Turns benchmark results into the RESULTS.md table and the --compare listing.
import type { BenchResults } from './run.ts';
import { spread } from './stats.ts';
import type { BenchFigure } from './types.ts';

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return n.toFixed(0);
  if (abs >= 100) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function row(area: string, f: BenchFigure): string {
  const baseline = f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)}` : '';
  const ratio = f.ratio !== undefined ? fmt(f.ratio) : '';
  const spreadText =
    f.samples && f.samples.length > 1 ? `±${(spread(f.samples) * 50).toFixed(0)}% (n=${f.samples.length})` : '';
  return `| ${area} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${spreadText} | ${baseline} | ${ratio} | ${f.target ?? ''} |`;
}

export function renderMarkdown(r: BenchResults, jsonName: string): string {
  const lines = [
    '# Benchmark results',
    '',
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC at commit \`${r.commit}\`${r.quick ? ' (quick run)' : ''}; raw figures in \`results/${jsonName}\`.`,
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}.`,
    `Versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    'Each figure is the median of several repetitions after warm-up; the spread is half the p10–p90 range. Ratios',
    'compare against a baseline measured in the same run, so they hold up on a noisy machine better than raw figures.',
    '',
    '![ratios](ratios.png)',
    '',
    '| area | figure | value | spread | same-run baseline | ratio | target |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const a of r.areas) {
    if (!a.ok) lines.push(`| ${a.area} | **failed**: ${(a.error ?? '').split('\n')[0]} | | | | | |`);
    for (const f of a.figures) lines.push(row(a.area, f));
  }
  lines.push(
    '',
    'Re-run with `pnpm bench` (or `pnpm bench --quick`); compare two runs with `pnpm bench --compare A.json B.json`.',
    '',
  );
  return lines.join('\n');
}

export function compareResults(a: BenchResults, b: BenchResults): string {
  const before = new Map<string, BenchFigure>();
  for (const area of a.areas) for (const f of area.figures) before.set(`${area.area} / ${f.name}`, f);
  const lines = [`comparing ${a.commit} (${a.date}) → ${b.commit} (${b.date})`, ''];
  for (const area of b.areas) {
    for (const f of area.figures) {
      const key = `${area.area} / ${f.name}`;
      const old = before.get(key);
      before.delete(key);
      if (!old) {
        lines.push(`  new      ${key}: ${fmt(f.value)} ${f.unit}`);
        continue;
      }
      const change = old.value === 0 ? 0 : ((f.value - old.value) / old.value) * 100;
      const ratioText =
        old.ratio !== undefined && f.ratio !== undefined ? `, ratio ${fmt(old.ratio)} → ${fmt(f.ratio)}` : '';
      lines.push(
        `  ${change >= 0 ? '+' : ''}${change.toFixed(1).padStart(6)}%  ${key}: ${fmt(old.value)} → ${fmt(f.value)} ${f.unit}${ratioText}`,
      );
    }
  }
  for (const key of before.keys()) lines.push(`  gone     ${key}`);
  return `${lines.join('\n')}\n`;
}
