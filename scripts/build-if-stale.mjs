#!/usr/bin/env node
// `prepare`: builds dist/ unless it is already up to date with the sources, by the same rule
// bin/cuttle.js uses to choose the compiled CLI (dist/cli/entry.js no older than any file in src/
// or the tsconfig files). npm runs `prepare` after `npm install`, and `npx cuttle` in the checkout
// runs it again each time it links the package into its cache: without this check that second,
// needless build made the first `npx cuttle` wait for a whole compilation. `npm run build` always
// builds from scratch.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const compiled = path.join(root, 'dist/cli/entry.js');

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

const inputs = ['src', 'web', 'tsconfig.json', 'tsconfig.build.json'].map((p) => path.join(root, p));
const upToDate = existsSync(compiled) && statSync(compiled).mtimeMs >= Math.max(...inputs.map(newestMtime));
if (upToDate) {
  console.log('dist/ is up to date with src/: not rebuilding (npm run build forces a build).');
} else {
  const r = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit', cwd: root });
  process.exit(r.status ?? 1);
}
