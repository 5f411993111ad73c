// UI_BASIC_AUTH: the page and its /api proxy ask for a user name and password (HTTP Basic, parsed by `basic-auth`).
// The UI server is plain node:http (it streams /api both ways), so this is a request check, not a Fastify plugin.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credentials } from '@image-search/config';
import parseBasicAuth from 'basic-auth';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so neither the time taken nor an early exit tells how much of a guess was right. */
function same(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function hasCredentials(req: IncomingMessage, expected: Credentials): boolean {
  const given = parseBasicAuth(req);
  // Both compared every time, so a right user name with a wrong password takes as long as a wrong user name.
  const user = same(given?.name ?? '', expected.user);
  const password = same(given?.pass ?? '', expected.password);
  return given !== undefined && user && password;
}

/** 401 with the challenge a browser answers with its login prompt, and the API's JSON error body. */
export function askForCredentials(res: ServerResponse): void {
  const body = JSON.stringify({
    error: 'unauthorized',
    message: 'this page needs the user name and password of UI_BASIC_AUTH',
  });
  res.writeHead(401, {
    'www-authenticate': 'Basic realm="image-search", charset="UTF-8"',
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
