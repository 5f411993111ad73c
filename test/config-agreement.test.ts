// One source of truth for defaults: packages/config. The compose file and .env.example must say the same, so a user
// reading either one learns what the services really do.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allVariables, downloaderSpec, embedderSpec, searchApiSpec, stackSpec, uiSpec } from '@image-search/config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, { environment?: Record<string, string | number>; [k: string]: unknown }>;
  [k: string]: unknown;
};
const config = allVariables();

/** Read by Compose itself, not by a service. */
const COMPOSE_ONLY: Record<string, string> = {
  ES_JAVA_OPTS: '-Xms1g -Xmx1g',
  ES_PORT: '9200',
  PROMETHEUS_PORT: '9090',
  GRAFANA_PORT: '3000',
  GRAFANA_ADMIN_PASSWORD: 'admin',
};
/**
 * Different inside each container: /metrics is off by default natively, on for the monitoring profile's Prometheus;
 * each embedder replica keeps its heartbeat in its container, off the shared state volume.
 */
const ON_IN_COMPOSE: Record<string, string> = { METRICS_PORT: '9464', HEARTBEAT_FILE: '/tmp/heartbeat.json' };
/** Inside the Compose network the neighbours have service names, so these defaults differ there (and say so). */
const IN_COMPOSE_NETWORK: Record<string, string> = { ES_HOST: 'http://es:9200', API_URL: 'http://search-api:8000' };
/** The specs of the services the compose file runs. */
const SERVICE_SPECS: Record<string, Record<string, unknown>> = {
  downloader: downloaderSpec,
  embedder: embedderSpec,
  'search-api': searchApiSpec,
  ui: uiSpec,
};
/** Left to the service's own derived default (STATE_DIR: <IMAGES_DIR>/../embedder-state, on its own volume). */
const DERIVED = new Set(['STATE_DIR']);

function envExample(): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of readFileSync(path.join(root, '.env.example'), 'utf8').split('\n')) {
    const m = /^#?\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) {
      expect(vars.has(m[1]), `${m[1]} appears twice in .env.example`).toBe(false);
      vars.set(m[1], m[2]);
    }
  }
  return vars;
}

/** Every ${NAME:-default} (and ${NAME}) in the compose file outside comments, with its default text. */
function composeDefaults(): Array<{ name: string; fallback: string | undefined }> {
  const code = composeText
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  return [...code.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::?-([^}]*))?\}/g)].map((m) => ({
    name: m[1],
    fallback: m[2],
  }));
}

describe('.env.example', () => {
  const example = envExample();

  it('lists every variable the services read, with the default packages/config uses', () => {
    for (const [name, fallback] of config) {
      expect(example.has(name), `${name} is missing from .env.example`).toBe(true);
      expect(example.get(name), `${name} default in .env.example`).toBe(fallback);
    }
  });

  it('lists nothing unknown, and the stack and Compose settings with their real defaults', () => {
    for (const [name, value] of example) {
      const stack = (stackSpec as Record<string, { defaultText: string }>)[name];
      const known = config.get(name) ?? COMPOSE_ONLY[name] ?? stack?.defaultText;
      expect(known, `${name} in .env.example is read by nothing`).toBeDefined();
      if (!config.has(name)) expect(value, `${name} default in .env.example`).toBe(known);
    }
  });

  it('explains every variable with a comment line above it', () => {
    const lines = readFileSync(path.join(root, '.env.example'), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/^#?\s?[A-Z][A-Z0-9_]*=/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^#?\s?[A-Z][A-Z0-9_]*=/.test(lines[j])) j--;
      expect(lines[j]?.startsWith('# ') && !/^# [A-Z_]+=/.test(lines[j]), `no comment above ${line}`).toBe(true);
    });
  });
});

describe('docker-compose.yml', () => {
  it('gives every VAR:-default substitution the default of packages/config (or of .env.example for Compose settings)', () => {
    const example = envExample();
    for (const { name, fallback } of composeDefaults()) {
      expect(fallback, `\${${name}} in docker-compose.yml has no default`).toBeDefined();
      const expected = IN_COMPOSE_NETWORK[name] ?? config.get(name) ?? COMPOSE_ONLY[name];
      expect(expected, `\${${name}} in docker-compose.yml is not a known variable`).toBeDefined();
      expect(fallback, `default of \${${name}} in docker-compose.yml`).toBe(expected);
      expect(example.has(name), `${name} is used by docker-compose.yml but missing from .env.example`).toBe(true);
    }
  });

  it('passes every variable of each service, so .env can change any of them', () => {
    for (const [service, spec] of Object.entries(SERVICE_SPECS)) {
      const env = compose.services[service]?.environment ?? {};
      for (const name of Object.keys(spec)) {
        if (DERIVED.has(name)) continue;
        expect(Object.hasOwn(env, name), `${service} does not get ${name}`).toBe(true);
      }
      for (const [name, value] of Object.entries(env)) {
        expect(Object.hasOwn(spec, name), `${service} gets ${name}, which it does not read`).toBe(true);
        const text = String(value);
        if (!text.includes('${')) {
          // A fixed value is a path or port inside the container: the service's own default.
          expect(text, `${service}: ${name}`).toBe(ON_IN_COMPOSE[name] ?? config.get(name));
        } else {
          expect(text, `${service}: ${name} must be \${${name}:-...}`).toMatch(new RegExp(`^\\$\\{${name}:-`));
        }
      }
    }
  });

  it('gives each embedder replica a heartbeat of its own: its health check reads HEARTBEAT_FILE, on no volume', () => {
    const embedder = compose.services.embedder as { healthcheck: { test: string[] }; volumes: string[] };
    const file = String(compose.services.embedder.environment?.HEARTBEAT_FILE);
    expect(embedder.healthcheck.test.slice(-2)).toEqual(['heartbeat', file]);
    for (const volume of embedder.volumes) {
      const target = volume.split(':')[1];
      expect(file.startsWith(`${target}/`), `${file} is on the volume ${volume}`).toBe(false);
    }
  });

  it('stays valid for docker-compose 1.29 as well as Compose v2', () => {
    expect(compose).not.toHaveProperty('name');
    expect(compose).not.toHaveProperty('version');
    for (const [service, def] of Object.entries(compose.services)) {
      const deps = (def.depends_on ?? {}) as Record<string, { condition: string }>;
      expect(Array.isArray(deps), `${service}: depends_on must be the long form`).toBe(false);
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(['service_healthy', 'service_completed_successfully', 'service_started']).toContain(condition);
        const target = compose.services[dep];
        expect(target, `${service} depends on unknown ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(target.healthcheck, `${dep} has no health check`).toBeDefined();
      }
    }
  });

  it('gives every long-running service a health check', () => {
    for (const [service, def] of Object.entries(compose.services)) {
      if (service === 'model') continue;
      expect(def.healthcheck, `${service} has no health check`).toBeDefined();
    }
  });
});
