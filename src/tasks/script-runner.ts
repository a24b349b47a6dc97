import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { watchGroup } from './group-watchdog.js';

export type ScriptSyntax = 'Bash' | 'PowerShell';

export interface RunScriptInput {
  syntax: ScriptSyntax;
  body: string;
  /**
   * The script's own working folder. A Bash script is not written there: bash reads it from a
   * named pipe (`script.sh` is a FIFO) that this process feeds, so the substituted body
   * (sensitive values included) never touches the disk.
   * PowerShell needs a `.ps1` file, written there and removed with the folder.
   */
  workDir: string;
  /** Added to the environment (which never carries the server's own CUTTLE_* settings). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  onLine(stream: 'stdout' | 'stderr', line: string): void;
  /** Called with the script process's pid once it started (tests check it leaves no orphan). */
  onSpawn?(pid: number): void;
}

/** A grace period between SIGTERM and SIGKILL, so a script can clean up after itself. */
const KILL_GRACE_MS = 5_000;

export class PowerShellNotInstalledError extends Error {
  constructor() {
    super(
      'PowerShell is not installed on the built-in worker: `pwsh` was not found on the PATH. Install PowerShell 7 on the server, or write the step as a Bash script.',
    );
    this.name = 'PowerShellNotInstalledError';
  }
}

/** The script ran longer than its step timeout; the executor ends such a task TimedOut. */
export class ScriptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The script did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped.`);
    this.name = 'TimedOut';
  }
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, command);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The server's environment minus its own settings: CUTTLE_MASTER_KEY and friends MUST NOT reach
 * a deployment script (whose output lands in a task log anyone with read access can see).
 */
function scriptEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CUTTLE_')) env[k] = v;
  return { ...env, ...extra };
}

/** The command, and the FIFO to feed the body into (Bash) or none (PowerShell reads its file). */
function commandFor(syntax: ScriptSyntax, workDir: string, body: string): [string, string[], string?] {
  if (syntax === 'PowerShell') {
    const pwsh = findOnPath('pwsh');
    if (!pwsh) throw new PowerShellNotInstalledError();
    const file = path.join(workDir, 'script.ps1');
    fs.writeFileSync(file, body, { mode: 0o600 });
    return [pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', file]];
  }
  const fifo = path.join(workDir, 'script.sh');
  fs.rmSync(fifo, { force: true });
  execFileSync('mkfifo', ['-m', '600', fifo]);
  return ['bash', ['--noprofile', '--norc', fifo], fifo];
}

/**
 * Writes the body into the FIFO once bash opens it for reading, then closes it (bash reads EOF).
 * Only bash holds the read end, so a script that exits before reading all of itself makes the
 * write fail (EPIPE) instead of blocking; and if bash never opened it (it failed to start), the
 * pending open is released by opening the read end here once the child is gone.
 */
function feedFifo(fifo: string, body: string, child: ChildProcess): void {
  let opened = false;
  void fs.promises
    .open(fifo, 'w')
    .then(async (fh) => {
      opened = true;
      try {
        await fh.writeFile(body);
      } catch {
        // the script exited before reading all of itself
      } finally {
        await fh.close();
      }
    })
    .catch(() => {});
  const release = () => {
    if (opened) return;
    try {
      fs.closeSync(fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    } catch {
      // gone already
    }
  };
  child.once('exit', release);
  child.once('error', release);
}

/** The file name a step's script has (for the masked copy a kept work folder gets). */
export function scriptFileName(syntax: ScriptSyntax): string {
  return syntax === 'PowerShell' ? 'script.ps1' : 'script.sh';
}

/**
 * Runs one script on this host and resolves with its exit code. The script runs detached, as
 * the leader of its own process group, so cancellation and timeouts can kill everything it
 * started (`kill(-pgid)`): SIGTERM, then SIGKILL after KILL_GRACE_MS. The promise settles only
 * once the whole group is gone, so a canceled task leaves no orphan behind.
 * Rejects with the signal's reason when aborted, ScriptTimeoutError on timeout.
 */
export async function runScript(input: RunScriptInput): Promise<{ exitCode: number }> {
  input.signal?.throwIfAborted();
  fs.mkdirSync(input.workDir, { recursive: true });
  const [cmd, args, fifo] = commandFor(input.syntax, input.workDir, input.body);
  const child = spawn(cmd, args, {
    cwd: input.workDir,
    env: scriptEnv(input.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (fifo) feedFifo(fifo, input.body, child);
  return new Promise((resolve, reject) => {
    let stopping: 'abort' | 'timeout' | undefined;
    let spawnError: Error | undefined;
    const pid = child.pid;
    const watchdog = pid ? watchGroup(pid) : undefined;
    if (pid) input.onSpawn?.(pid);
    const out = lineSplitter((l) => input.onLine('stdout', l));
    const err = lineSplitter((l) => input.onLine('stderr', l));
    child.stdout?.on('data', out.push);
    child.stderr?.on('data', err.push);

    const stop = (why: 'abort' | 'timeout') => {
      if (stopping || !pid) return;
      stopping = why;
      // A node that lost the task's lease gives no grace: the lease is running out (task-fence.ts).
      const lost = (input.signal?.reason as { why?: string } | undefined)?.why === 'leaseLost';
      void killGroup(pid, child, lost ? 0 : KILL_GRACE_MS);
    };
    const onAbort = () => stop('abort');
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = input.timeoutMs ? setTimeout(() => stop('timeout'), input.timeoutMs) : undefined;

    child.on('error', (e) => {
      spawnError = e;
    });
    let exit: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    let settled = false;
    const finish = async () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      if (stopping && pid) await waitGroupGone(pid, KILL_GRACE_MS + 2_000);
      watchdog?.release();
      if (spawnError) return reject(spawnError);
      if (stopping === 'timeout') return reject(new ScriptTimeoutError(input.timeoutMs ?? 0));
      if (stopping === 'abort') return reject(input.signal?.reason ?? new Error('The script was canceled.'));
      resolve({ exitCode: exit?.code ?? 128 + signalNumber(exit?.sig ?? null) });
    };
    child.on('error', (e) => {
      spawnError = e;
      void finish();
    });
    child.on('exit', (code, sig) => {
      exit = { code, sig };
      // A background process the script left running (`app &`) may hold its output pipes open:
      // the step ends with the script, not with it.
      setTimeout(() => {
        if (settled || stopping) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
        void finish();
      }, 2_000).unref();
    });
    child.on('close', () => void finish());
  });
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : sig === 'SIGINT' ? 2 : 1;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the whole group, SIGKILL to what is left after the grace period. */
async function killGroup(pgid: number, child: ChildProcess, graceMs: number): Promise<void> {
  const first = graceMs > 0 ? 'SIGTERM' : 'SIGKILL';
  try {
    process.kill(-pgid, first);
  } catch {
    child.kill(first);
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(50);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Splits a byte stream into lines (\n or \r\n), keeping a partial last line until more arrives. */
function lineSplitter(onLine: (line: string) => void) {
  let rest = '';
  const decoder = new TextDecoder();
  return {
    push: (chunk: Buffer) => {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    },
    end: () => {
      rest += decoder.decode();
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
