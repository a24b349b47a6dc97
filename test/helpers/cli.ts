import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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

/** The environment variables that ask for a crash-test fault (test/helpers/fault-injector.ts). */
export const FAULT_ENV = ['CUTTLE_FAULT', 'CUTTLE_MOVE_FAULT'];

/**
 * The CLI with the fault preload (fault-preload.ts) before its entry: the hooks the fault
 * variables ask for, injected by the CLI's composition root. The preload is TypeScript, so the
 * compiled CLI gets tsx too (only for these runs: it doubles the start-up time).
 */
export const CLI_ARGS_WITH_FAULTS = [
  '--import',
  import.meta.resolve('tsx'),
  '--import',
  pathToFileURL(path.join(ROOT, 'test/helpers/fault-preload.ts')).href,
  CLI_ARGS.at(-1)!,
];

/** The CLI's arguments for a run with this environment: with the fault preload when it asks for a fault. */
export function cliArgsFor(env: Record<string, string | undefined> = {}): string[] {
  return FAULT_ENV.some((k) => env[k]) ? CLI_ARGS_WITH_FAULTS : CLI_ARGS;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never prints X" assertions. */
  all: string;
}

/** Runs the real `cuttle` CLI in a child process (with the fault preload when `env` asks for a fault). */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [...cliArgsFor(opts.env), ...args], {
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
