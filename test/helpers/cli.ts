import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const ENTRY = path.join(ROOT, 'src/cli/entry.ts');

/**
 * `npm test` builds first and sets CUTTLE_TEST_DIST: the compiled CLI starts in about half the CPU
 * time of tsx compiling the sources, and suites spawn it hundreds of times. A direct
 * `node scripts/run-tests.mjs` runs the sources, so a stale build can never hide an edit. tsx is
 * named by absolute URL so a child started in another folder (an instance home) still finds it.
 */
export const CLI_ARGS = process.env.CUTTLE_TEST_DIST
  ? [path.join(ROOT, 'dist/cli/entry.js')]
  : ['--import', import.meta.resolve('tsx'), ENTRY];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never prints X" assertions. */
  all: string;
}

/** Runs the real `cuttle` CLI in a child process. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, all: stdout + stderr }));
  });
}
