// The Compose `monitoring` profile without pulling its images: Prometheus scrapes every long-running service where
// it serves /metrics, Grafana's provisioning points at that Prometheus and loads the dashboard, and the dashboard asks
// only for metrics the services define (test/stack.int.test.ts checks the same against real scrapes).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricsText } from '@image-search/metrics';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardMetricNames, metricNamesIn, offeredNames, readDashboard } from './dashboard.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const yamlOf = (file: string) => parse(readFileSync(path.join(root, file), 'utf8'), { merge: true });

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: unknown;
}
const compose = yamlOf('docker-compose.yml') as { services: Record<string, Service> };
const monitoring = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('monitoring'));
/** Every service of ours that keeps running (the one-shot model export aside). */
const ours = Object.entries(compose.services).filter(([name, s]) => s.build && name !== 'model');

/** host path → container path of a service's bind mounts. */
function mounts(service: Service): Map<string, string> {
  return new Map(
    (service.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        const [from, to] = v.split(':');
        return [path.normalize(from), to];
      }),
  );
}

describe('the monitoring profile', () => {
  it('runs Prometheus and Grafana only when asked for, from pinned images, bound to 127.0.0.1', () => {
    expect(monitoring.map(([name]) => name).sort()).toEqual(['grafana', 'prometheus']);
    for (const [name, service] of monitoring) {
      expect(service.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
      for (const [from] of mounts(service))
        expect(existsSync(path.join(root, from)), `${name} mounts ${from}`).toBe(true);
    }
    for (const [name, service] of ours) expect(service.profiles, name).toBeUndefined();
  });

  it('scrapes every long-running service on the port where it serves /metrics', () => {
    const prometheus = yamlOf('docker/monitoring/prometheus.yml') as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const port: Record<string, string | number | undefined> = {
      'search-api': compose.services['search-api'].environment?.API_PORT,
      ui: compose.services.ui.environment?.UI_PORT,
      embedder: compose.services.embedder.environment?.METRICS_PORT,
      downloader: compose.services.downloader.environment?.METRICS_PORT,
    };
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((j) => [j.job_name, j]));
    expect(Object.keys(jobs).sort()).toEqual(ours.map(([name]) => name).sort());
    for (const [name, job] of Object.entries(jobs)) {
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`${name}:${port[name]}`]);
    }
  });

  it('provisions Grafana with that Prometheus and the dashboard', () => {
    const grafana = compose.services.grafana;
    const grafanaMounts = mounts(grafana);
    const provisioning = grafanaMounts.get('docker/monitoring/grafana/provisioning');
    expect(provisioning).toBe('/etc/grafana/provisioning');
    const datasources = yamlOf('docker/monitoring/grafana/provisioning/datasources/prometheus.yml') as {
      datasources: Array<{ uid: string; type: string; url: string }>;
    };
    const [source] = datasources.datasources;
    expect(source).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const providers = yamlOf('docker/monitoring/grafana/provisioning/dashboards/image-search.yml') as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(providers.providers[0].options.path).toBe(grafanaMounts.get('docker/monitoring/grafana/dashboards'));
    const dashboard = readDashboard();
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of [panel, ...panel.targets]) expect(t.datasource.uid, panel.title).toBe(source.uid);
    }
  });

  it('asks only for metrics the services define', async () => {
    await Promise.all([
      import('../services/search-api/src/metrics.ts'),
      import('../services/embedder/src/metrics.ts'),
      import('../services/downloader/src/metrics.ts'),
    ]);
    const { collectProcessMetrics, requestMetrics } = await import('@image-search/metrics');
    collectProcessMetrics();
    requestMetrics();
    const offered = offeredNames(await metricsText());
    const asked = [...dashboardMetricNames()];
    expect(asked.length).toBeGreaterThan(10);
    expect(asked.filter((name) => !offered.has(name))).toEqual([]);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="x", route=~"/a.*"}[$__rate_interval]))) / up',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });
});
