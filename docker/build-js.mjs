// Image build step (plain JavaScript: it runs before anything is compiled). Compiles the workspace's TypeScript to
// JavaScript beside its sources (tsconfig.build.json) and points every workspace package's `exports` at the .js
// files, so `pnpm deploy` copies a service that runs with plain `node` — no tsx, no TypeScript at run time.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const group of ['packages', 'services']) {
  for (const name of readdirSync(group)) {
    const file = path.join(group, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (!pkg.exports) continue;
    pkg.exports = JSON.parse(JSON.stringify(pkg.exports).replace(/\.ts"/g, '.js"'));
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}
