// A bar chart of every same-run ratio, drawn as SVG and rasterised with sharp (librsvg), for RESULTS.md.
import sharp from 'sharp';
import type { BenchResults } from './run.ts';

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}

export function renderChartSvg(r: BenchResults): string {
  const bars = r.areas.flatMap((a) =>
    a.figures
      .filter((f) => f.ratio !== undefined && Number.isFinite(f.ratio))
      .map((f) => ({ label: `${a.area}: ${f.name}`, ratio: f.ratio!, target: f.target ?? '' })),
  );
  const rowH = 26;
  const left = 560;
  const width = 1200;
  const plotW = width - left - 190;
  const height = 60 + Math.max(1, bars.length) * rowH;
  const max = Math.max(1.2, ...bars.map((b) => b.ratio)) * 1.05;
  const x = (v: number) => left + (v / max) * plotW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="bold">image-search: same-run ratios (${escapeXml(r.commit)}${r.quick ? ', quick' : ''})</text>`,
    `<line x1="${x(1)}" y1="36" x2="${x(1)}" y2="${height - 10}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${x(1) + 4}" y="48" fill="#666">1.0</text>`,
  ];
  bars.forEach((b, i) => {
    const y = 56 + i * rowH;
    parts.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeXml(b.label.length > 84 ? `${b.label.slice(0, 83)}…` : b.label)}</text>`,
      `<rect x="${left}" y="${y + 2}" width="${Math.max(1, x(b.ratio) - left)}" height="${rowH - 8}" fill="#3b82f6"/>`,
      `<text x="${x(b.ratio) + 4}" y="${y + 14}">${b.ratio.toFixed(2)}${b.target ? ` (target ${escapeXml(b.target.slice(0, 24))})` : ''}</text>`,
    );
  });
  if (bars.length === 0) parts.push(`<text x="${left}" y="70">no ratios in this run</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export async function renderChartPng(r: BenchResults): Promise<Buffer> {
  return sharp(Buffer.from(renderChartSvg(r)))
    .png()
    .toBuffer();
}
