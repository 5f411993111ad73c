// Container health checks that tell the truth, without curl in the image: `node /opt/image-search/healthcheck.mjs <check>`.
//   http URL        the URL answers 2xx (search-api /readyz; the ui's /api/readyz, which crosses ui → api → Elasticsearch),
//                   logging in with UI_BASIC_AUTH when the container has it (the ui's page and proxy ask for it)
//   heartbeat FILE  the process writing FILE (packages/process's Heartbeat) is alive and making progress: idle
//                   between rounds, or working and advancing; not "finished", so a first round of hours stays healthy
//   downloader      the downloader's heartbeat in OUTPUT_DIR is fresh and it can read URL_FILE
// Prints one line saying why when unhealthy (shown by `docker inspect` and `docker compose ps`).
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';

const [check, arg] = process.argv.slice(2);

function fail(why) {
  console.log(`unhealthy: ${why}`);
  process.exit(1);
}

async function answers(url) {
  const login = process.env.UI_BASIC_AUTH?.trim();
  const headers = login ? { authorization: `Basic ${Buffer.from(login).toString('base64')}` } : {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(4000) }).catch((err) =>
    fail(`${url}: ${err.cause?.code ?? err.message}`),
  );
  if (!res.ok) fail(`${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

/** The heartbeat file's record ({pid, host, state, at, staleAfterMs}) is younger than its own staleness limit. */
function heartbeat(file) {
  let beat;
  try {
    beat = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    fail(`no heartbeat in ${file} (not started yet, or it stopped)`);
  }
  const age = Date.now() - beat.at;
  if (!(age <= beat.staleAfterMs)) {
    const doing = beat.state === 'working' ? 'no progress in its round' : 'not alive';
    fail(`${doing} for ${Math.round(age / 1000)} s (pid ${beat.pid}; limit ${beat.staleAfterMs / 1000} s)`);
  }
}

if (check === 'http') {
  await answers(arg);
} else if (check === 'heartbeat') {
  heartbeat(arg);
} else if (check === 'downloader') {
  const out = process.env.OUTPUT_DIR ?? '/data/images';
  const urlFile = process.env.URL_FILE ?? '/data/image_urls.txt';
  heartbeat(path.join(out, '.downloader', 'heartbeat.json'));
  try {
    accessSync(urlFile, constants.R_OK);
  } catch {
    fail(`cannot read the URL list ${urlFile}`);
  }
} else {
  fail(`unknown check ${check ?? '(none)'}; use http URL, heartbeat FILE or downloader`);
}
