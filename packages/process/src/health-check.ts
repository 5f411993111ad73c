// Container health checks that tell the truth, without curl in the image; compose runs the compiled file:
//   node /app/node_modules/@image-search/process/src/health-check.js <check>
//   http URL                   the URL answers 2xx (search-api /readyz; the ui's /api/readyz, which crosses
//                              ui → api → Elasticsearch), logging in with UI_BASIC_AUTH when the container has it
//                              (the ui's page and proxy ask for it)
//   heartbeat FILE [READABLE…] the process writing FILE (Heartbeat) is alive and making progress: idle between rounds,
//                              or working and advancing; not "finished", so a first round of hours stays healthy. Each
//                              READABLE file must be readable too (the downloader's URL list).
// Prints one line saying why when unhealthy (shown by `docker inspect` and `docker compose ps`).
import { accessSync, constants } from 'node:fs';
import { heartbeatProblem } from './heartbeat.ts';

async function httpProblem(url: string): Promise<string | undefined> {
  try {
    const login = process.env.UI_BASIC_AUTH?.trim();
    const headers = login ? { authorization: `Basic ${Buffer.from(login).toString('base64')}` } : undefined;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(4000) });
    if (!res.ok) return `${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `${url}: ${e.cause?.code ?? e.message}`;
  }
  return undefined;
}

function unreadable(files: string[]): string | undefined {
  for (const file of files) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return `cannot read ${file}`;
    }
  }
  return undefined;
}

async function problem([check, arg, ...rest]: string[]): Promise<string | undefined> {
  if (check === 'http' && arg) return httpProblem(arg);
  if (check === 'heartbeat' && arg) return heartbeatProblem(arg) ?? unreadable(rest);
  return `unknown check "${[check, arg].filter(Boolean).join(' ')}"; use: http URL, or heartbeat FILE [READABLE…]`;
}

const why = await problem(process.argv.slice(2));
if (why) {
  console.log(`unhealthy: ${why}`);
  process.exit(1);
}
