// Container health checks that tell the truth, without curl in the image: `node /opt/image-search/healthcheck.mjs <check>`.
//   http URL      the URL answers 2xx (search-api /readyz; the ui's /api/readyz, which crosses ui → api → Elasticsearch)
//   es-alias      ES_INDEX exists in ES_HOST: the embedder has finished a round and promoted its index
//   downloader    the downloader holds its lock in OUTPUT_DIR and can read URL_FILE
// Prints one line saying why when unhealthy (shown by `docker inspect` and `docker compose ps`).
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [check, arg] = process.argv.slice(2);

function fail(why) {
  console.log(`unhealthy: ${why}`);
  process.exit(1);
}

async function answers(url, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(4000) }).catch((err) =>
    fail(`${url}: ${err.cause?.code ?? err.message}`),
  );
  if (!res.ok) fail(`${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

function esHeaders() {
  const { ES_API_KEY, ES_USERNAME, ES_PASSWORD } = process.env;
  if (ES_API_KEY) return { authorization: `ApiKey ${ES_API_KEY}` };
  if (ES_USERNAME)
    return { authorization: `Basic ${Buffer.from(`${ES_USERNAME}:${ES_PASSWORD ?? ''}`).toString('base64')}` };
  return {};
}

if (check === 'http') {
  await answers(arg);
} else if (check === 'es-alias') {
  const host = (process.env.ES_HOST ?? 'http://localhost:9200').replace(/\/+$/, '');
  const index = process.env.ES_INDEX ?? 'images';
  await answers(`${host}/_alias/${encodeURIComponent(index)}`, esHeaders());
} else if (check === 'downloader') {
  const out = process.env.OUTPUT_DIR ?? '/data/images';
  const urlFile = process.env.URL_FILE ?? '/data/image_urls.txt';
  let holder;
  try {
    holder = JSON.parse(readFileSync(path.join(out, '.downloader', 'lock'), 'utf8'));
  } catch {
    fail(`no downloader lock in ${out}/.downloader (not started, or it stopped)`);
  }
  if (holder.host !== os.hostname()) fail(`the lock in ${out} belongs to ${holder.host}`);
  try {
    process.kill(holder.pid, 0);
  } catch {
    fail(`the downloader (pid ${holder.pid}) is gone`);
  }
  try {
    accessSync(urlFile, constants.R_OK);
  } catch {
    fail(`cannot read the URL list ${urlFile}`);
  }
} else {
  fail(`unknown check ${check ?? '(none)'}; use http URL, es-alias or downloader`);
}
