import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeFailure } from '../../lib/errors.js';
import { silentProgress } from '../../lib/progress.js';
import type { Instance } from '../instance-context.js';
import { moveLogPath, writeLaunchRecord } from './launch-record.js';
import { moveDatabase } from './move-database.js';
import { newMoveId } from './move-journal.js';
import type { MovePlan } from './move-plan.js';

/** How to run this same `cuttle` in a child process (server-process/child-command.ts). */
export type CliCommand = (args: string[]) => [string, string[]];

export interface MoveRequest {
  /** The target's connection string (it travels to the move process in its environment). */
  to: string;
  drainTimeoutSeconds?: number;
  keepMaintenance?: boolean;
}

/**
 * Preflight only: the plan, and the error when the checks found problems (the plan lists them).
 * Throws when there is no plan at all (the source cannot be opened, a malformed target).
 */
export async function planMove(inst: Instance, to: string): Promise<{ plan: MovePlan; failure?: unknown }> {
  let plan: MovePlan | undefined;
  let failure: unknown;
  try {
    await moveDatabase(inst, { to, dryRun: true, yes: true }, silentProgress, {
      onPlan: (p) => {
        plan = p;
      },
    });
  } catch (err) {
    failure = err;
  }
  if (!plan) throw failure;
  return { plan, failure };
}

/**
 * Starts a move in the background, after its preflight passed here: a detached
 * `cuttle database move --yes --move-id ID` (a move stops the server that asks for it, so it
 * cannot run inside it). The target goes in the child's environment (`CUTTLE_MOVE_TO`), never on
 * its command line, where other users of the machine could read it; the output goes to
 * `<home>/logs/<id>.log`. The move restarts the service it stopped, as on the command line;
 * `move-status.ts` reports it from its journal.
 */
export async function launchMove(
  inst: Instance,
  request: MoveRequest,
  command: CliCommand,
): Promise<{ moveId: string; plan: MovePlan }> {
  const { plan, failure } = await planMove(inst, request.to);
  if (failure) throw failure;
  const home = inst.config.home;
  const moveId = newMoveId();
  const args = ['database', 'move', '--yes', '--instance', inst.name, '--config', inst.configFile];
  args.push('--move-id', moveId);
  if (request.drainTimeoutSeconds !== undefined)
    args.push('--drain-timeout', String(request.drainTimeoutSeconds));
  if (request.keepMaintenance) args.push('--keep-maintenance');
  const [exe, argv] = command(args);
  const logFile = moveLogPath(home, moveId);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(exe, argv, {
      cwd: home,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, CUTTLE_MOVE_TO: request.to },
    });
    child.on('error', () => {});
    pid = child.pid;
    child.unref();
  } finally {
    fs.closeSync(out);
  }
  if (!pid)
    throw new RuntimeFailure('The move process could not be started.', { code: 'MOVE_LAUNCH_FAILED' });
  writeLaunchRecord(home, {
    moveId,
    pid,
    started: new Date().toISOString(),
    target: plan.target.description,
  });
  return { moveId, plan };
}
