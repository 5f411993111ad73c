// `pnpm --filter @image-search/ui build`: the page into dist/, with the hash of its sources so `start` knows it is current.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInto } from './build-site.ts';

const uiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
await buildInto(uiRoot, path.join(uiRoot, 'dist'));
console.log(`ui: built dist/ in ${Math.round(performance.now() - started)} ms`);
