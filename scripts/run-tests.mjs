#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test through tsx. Node 20 neither finds .ts files in a
// folder nor expands quoted globs, so the list is built here, and an empty list is a failure
// (a test run that ran nothing must not look green).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const build = args.includes('--build');
// --browser: the portal's end-to-end tests in headless Chromium (test/browser/*.browser-test.ts)
const browser = args.includes('--browser');
const suffix = browser ? '.browser-test.ts' : '.test.ts';
const only = args.filter((a) => a !== '--build' && a !== '--browser');

function walk(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) found.push(...walk(p));
    else if (name.endsWith(suffix)) found.push(p);
  }
  return found;
}

let files = walk(path.join(root, 'test')).sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('No test files found: refusing to report success.');
  process.exit(1);
}
const env = { ...process.env, CUTTLE_TEST: '1' };
if (build) {
  const b = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit', cwd: root });
  if (b.status !== 0) process.exit(b.status ?? 1);
  env.CUTTLE_TEST_DIST = '1';
}
// Browser tests run one file at a time: each drives a Chromium and a server of its own on 2 cores.
const concurrency = process.env.CUTTLE_TEST_CONCURRENCY ?? (browser ? '1' : '2');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env },
);
process.exit(r.status ?? 1);
