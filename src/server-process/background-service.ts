import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type InstanceRef, loadInstance } from '../admin/instance-context.js';
import { RuntimeFailure } from '../lib/errors.js';
import { openStorage } from '../storage/storage.js';
import { requestCancel } from '../tasks/task-queue.js';
import { cuttleCommand } from './child-command.js';
import { pidAlive, readNodeState, runDir, runningPid } from './run-files.js';
import { nodeTaskCounts } from './service-status.js';

export function supervisorPidFile(home: string): string {
  return path.join(runDir(home), 'supervisor.pid');
}

function serviceLogFile(home: string): string {
  return path.join(home, 'logs', 'service.log');
}

/** The arguments that name the instance again in a child `cuttle` process. */
export function instanceArgs(ref: InstanceRef): string[] {
  const args: string[] = [];
  if (ref.config) args.push('--config', path.resolve(ref.config));
  if (ref.instance) args.push('--instance', ref.instance);
  if (ref.masterKeyFile) args.push('--master-key-file', path.resolve(ref.masterKeyFile));
  return args;
}

function readSupervisorPid(home: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(supervisorPidFile(home), 'utf8').trim());
    return pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function ping(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/api/octopusservernodes/ping`, { signal: AbortSignal.timeout(2_000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 15): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}

export interface StartResult {
  pid: number;
  url: string;
  alreadyRunning: boolean;
  logFile: string;
  /** Created on this first start; shown once by the command, never written to the log. */
  initialAdmin?: { username: string; apiKey: string };
}

export function initialAdminFile(home: string): string {
  return path.join(runDir(home), 'initial-admin.json');
}

export function takeInitialAdmin(file: string): StartResult['initialAdmin'] {
  try {
    const admin = JSON.parse(fs.readFileSync(file, 'utf8')) as StartResult['initialAdmin'];
    fs.rmSync(file, { force: true });
    return admin;
  } catch {
    return undefined;
  }
}

/**
 * Starts the node as a supervised background process (`cuttle service --supervise`, detached,
 * output to <home>/logs/service.log) and returns once it answers its ping.
 */
export async function startBackground(ref: InstanceRef, timeoutMs = 60_000): Promise<StartResult> {
  const inst = loadInstance(ref);
  const home = inst.config.home;
  const logFile = serviceLogFile(home);
  const running = runningPid(home);
  if (running) {
    return { pid: running, url: readNodeState(home)?.url ?? '', alreadyRunning: true, logFile };
  }
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.mkdirSync(runDir(home), { recursive: true });
  const adminFile = initialAdminFile(home);
  const logFd = fs.openSync(logFile, 'a');
  const [cmd, args] = cuttleCommand(['service', '--supervise', ...instanceArgs(ref)]);
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    cwd: home,
    env: { ...process.env, CUTTLE_INITIAL_ADMIN_FILE: adminFile },
  });
  fs.closeSync(logFd);
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });
  const ready = await waitForNode(home, timeoutMs, () => exited);
  return { ...ready, alreadyRunning: false, logFile, initialAdmin: takeInitialAdmin(adminFile) };
}

/**
 * Waits until the node of this home wrote its state file and answers its ping. `exitCode`
 * reports the launched process's exit, so a node that dies at start-up fails fast.
 */
export async function waitForNode(
  home: string,
  timeoutMs: number,
  exitCode: () => number | null = () => null,
  logFile = serviceLogFile(home),
): Promise<{ pid: number; url: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && exitCode() === null) {
    const state = readNodeState(home);
    const pid = runningPid(home);
    if (state && pid && state.pid === pid && (await ping(state.url))) return { pid, url: state.url };
    await new Promise((r) => setTimeout(r, 200));
  }
  const code = exitCode();
  throw new RuntimeFailure(
    code !== null
      ? `The node exited (code ${code}) before it answered.`
      : `The node did not answer within ${Math.round(timeoutMs / 1000)} s.`,
    { code: 'SERVICE_START_FAILED', details: tail(logFile), hints: [`The output is in ${logFile}.`] },
  );
}

export interface StopProgress {
  runningTasks: number | null;
  elapsedMs: number;
}

export interface StopResult {
  wasRunning: boolean;
  canceled: string[];
  elapsedMs: number;
}

/**
 * Drains and stops the node: SIGTERM (the node takes no new tasks, finishes the running ones,
 * exits), reporting progress until it is gone. With `force`, this node's running tasks are
 * canceled first. If the timeout passes, the node is left running (draining) and this throws.
 */
export async function stopNode(
  ref: InstanceRef,
  opts: {
    timeoutMs: number;
    force?: boolean;
    onProgress?: (p: StopProgress) => void;
    /** How to ask the node to stop (systemd: `systemctl stop --no-block`); default SIGTERM. */
    sendStop?: () => void;
  },
): Promise<StopResult> {
  const inst = loadInstance(ref);
  const home = inst.config.home;
  const pid = runningPid(home);
  const supervisor = readSupervisorPid(home);
  if (!pid && !supervisor) return { wasRunning: false, canceled: [], elapsedMs: 0 };
  const canceled: string[] = [];
  if (opts.force) {
    const counts = await nodeTaskCounts(inst);
    if (counts?.taskIds.length) {
      const storage = await openStorage(inst.target);
      try {
        for (const id of counts.taskIds) {
          await requestCancel(storage.db, id);
          canceled.push(id);
        }
      } finally {
        await storage.close();
      }
    }
  }
  // The supervisor forwards the signal, and then does not restart the node.
  if (opts.sendStop) opts.sendStop();
  else process.kill(supervisor ?? pid!, 'SIGTERM');
  const started = Date.now();
  let lastReport = 0;
  while (true) {
    const alive = (pid && pidAlive(pid)) || (supervisor && pidAlive(supervisor));
    const elapsedMs = Date.now() - started;
    if (!alive) return { wasRunning: true, canceled, elapsedMs };
    if (elapsedMs > opts.timeoutMs) {
      const counts = await nodeTaskCounts(inst);
      throw new RuntimeFailure(
        `The node is still draining after ${Math.round(opts.timeoutMs / 1000)} s (${counts?.runningTasks ?? '?'} task(s) running).`,
        {
          code: 'SERVICE_DRAIN_TIMEOUT',
          hints: [
            'It keeps draining and stops by itself once its tasks end.',
            'To cancel the running tasks and stop now: cuttle service --stop --force',
          ],
        },
      );
    }
    if (opts.onProgress && Date.now() - lastReport >= 2_000) {
      lastReport = Date.now();
      const counts = await nodeTaskCounts(inst);
      opts.onProgress({ runningTasks: counts?.runningTasks ?? null, elapsedMs });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
