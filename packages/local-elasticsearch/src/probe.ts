// Is an Elasticsearch answering at a host, and what is it: the questions every start, stop and status asks first.

export interface EsSummary {
  version: string;
  clusterName: string;
  status: string;
  nodes: number;
}

/** GET url as JSON when possible; null when nothing answers in time. */
export async function getJson(url: string, timeoutMs = 2000): Promise<{ status: number; body: unknown } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: whatever answers is not Elasticsearch
    }
    return { status: res.status, body };
  } catch {
    return null;
  }
}

function versionOf(body: unknown): string | null {
  const v = (body as { version?: { number?: unknown } } | null)?.version?.number;
  return typeof v === 'string' ? v : null;
}

/** True when host answers GET / like Elasticsearch does. */
export async function isElasticsearchUp(host: string): Promise<boolean> {
  const res = await getJson(`${host.replace(/\/+$/, '')}/`);
  return res?.status === 200 && versionOf(res.body) !== null;
}

/** Version, cluster name, health and node count of the cluster at host; null when it does not answer. */
export async function describeElasticsearch(host: string): Promise<EsSummary | null> {
  const base = host.replace(/\/+$/, '');
  const root = await getJson(`${base}/`);
  const version = root && root.status === 200 ? versionOf(root.body) : null;
  if (!version) return null;
  const health = await getJson(`${base}/_cluster/health`);
  const h = (health?.body ?? {}) as { cluster_name?: string; status?: string; number_of_nodes?: number };
  return { version, clusterName: h.cluster_name ?? '?', status: h.status ?? 'unknown', nodes: h.number_of_nodes ?? 0 };
}
