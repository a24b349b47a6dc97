/**
 * How the benchmarks start the cuttle CLI. By default the TypeScript sources through tsx (what the
 * figures in the issues were measured with; tsx's start-up, ~1-3 s of CPU and ~60 MB, is included).
 * With `--compiled` they first compile src into a private folder (never the shared dist/) and run
 * the JavaScript, as an installed package does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

export function cliArgs(compiled: boolean): string[] {
  if (!compiled) return ['--import', 'tsx', path.join(ROOT, 'src/cli/entry.ts')];
  // inside node_modules so that the compiled files resolve the packages as dist/ does, next to a
  // copy of package.json (the CLI reads its version two levels up from lib/, as from dist/lib)
  const base = path.join(ROOT, 'node_modules/.cache/cuttle-bench');
  const out = path.join(base, 'dist');
  fs.mkdirSync(base, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(base, 'package.json'));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) console.warn('tsc reported errors; running what it emitted');
  return [path.join(out, 'cli/entry.js')];
}
