// The monitoring profile's Grafana dashboard as tests read it: the metric names its PromQL asks for, and the names a
// /metrics text offers (a histogram offers its _bucket, _sum and _count series).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DASHBOARD_FILE = path.join(root, 'docker/monitoring/grafana/dashboards/image-search.json');

export interface Dashboard {
  uid: string;
  panels: Array<{
    title: string;
    datasource: { uid: string };
    targets: Array<{ expr: string; datasource: { uid: string } }>;
  }>;
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

const PROMQL_WORDS = new Set(['sum', 'by', 'without', 'rate', 'increase', 'histogram_quantile', 'avg', 'max', 'min']);

/** The metric names in a PromQL expression: identifiers outside label matchers, ranges, groupings and calls. */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1]))
    .map((m) => m[1]);
}

export function dashboardMetricNames(): Set<string> {
  return new Set(readDashboard().panels.flatMap((p) => p.targets.flatMap((t) => metricNamesIn(t.expr))));
}

/** Every series name a Prometheus text exposition offers, from its # TYPE lines. */
export function offeredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}
