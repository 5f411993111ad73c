import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderChartPng } from '../chart.ts';
import { compareResults, renderMarkdown } from '../report.ts';
import type { BenchResults } from '../run.ts';

function results(commit: string, value: number): BenchResults {
  return {
    date: '2026-11-24T12:00:00.000Z',
    commit,
    quick: true,
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, os: 'Linux' },
    versions: { node: 'v20' },
    areas: [
      {
        area: 'embedder',
        ok: true,
        seconds: 1,
        figures: [
          {
            name: 'end-to-end vs model',
            value,
            unit: 'img/s',
            baseline: { name: 'image tower', value: 100 },
            ratio: value / 100,
            target: '≥ 0.9',
            samples: [value - 1, value, value + 1],
          },
        ],
      },
      { area: 'ui', ok: false, seconds: 0, figures: [], error: 'chromium missing\nstack' },
    ],
  };
}

describe('benchmark report', () => {
  it('tabulates each figure with its same-run baseline, ratio, target and failures', () => {
    const md = renderMarkdown(results('abc123', 95), 'x.json');
    expect(md).toContain(
      '| embedder | end-to-end vs model | 95.00 img/s | ±1% (n=3) | image tower: 100.0 | 0.950 | ≥ 0.9 |',
    );
    expect(md).toContain('| ui | **failed**: chromium missing |');
    expect(md).toContain('Test CPU, 2 cores, 24 GiB');
  });

  it('compares two runs figure by figure', () => {
    const text = compareResults(results('aaa', 80), results('bbb', 100));
    expect(text).toContain('+  25.0%  embedder / end-to-end vs model: 80.00 → 100.0 img/s, ratio 0.800 → 1.00');
  });

  it('draws the ratios as a PNG', async () => {
    const png = await renderChartPng(results('abc', 95));
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(1200);
  });
});
