import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { PreconditionError } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { pidAlive } from '../../server-process/run-files.js';
import type { Database } from '../../storage/schema/database-types.js';
import { type LiveNode, liveNodes } from '../home/running-service.js';

/**
 * The service of this instance on this machine, as the server process leaves it in `<home>/run`:
 * `cuttle.pid` (the process id) and `node-state.json` (at least `nodeId`). Other machines' nodes
 * are only visible through their heartbeats in `server_nodes`.
 */
export interface LocalService {
  running: boolean;
  pid?: number;
  nodeId?: string;
  nodeName?: string;
}

/** The background supervisor of the node (`cuttle service --start` without systemd), if it runs. */
function supervisorPid(home: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(home, 'run', 'supervisor.pid'), 'utf8').trim(), 10);
    return pid > 0 && pid !== process.pid && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function localService(home: string): LocalService {
  const run = path.join(home, 'run');
  let pid: number | undefined;
  let nodeId: string | undefined;
  let nodeName: string | undefined;
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(run, 'cuttle.pid'), 'utf8').trim(), 10) || undefined;
  } catch {}
  try {
    const state = JSON.parse(fs.readFileSync(path.join(run, 'node-state.json'), 'utf8')) as {
      nodeId?: string;
      nodeName?: string;
    };
    nodeId = state.nodeId;
    nodeName = state.nodeName;
  } catch {}
  return { running: pid !== undefined && pid !== process.pid && pidAlive(pid), pid, nodeId, nodeName };
}

/**
 * SIGTERM to the local node (it drains and exits), through its supervisor when it has one (which
 * passes it on and then does not restart the node), and waits until both have ended, so that
 * `cuttle service --start` afterwards starts a fresh one.
 */
export async function stopLocalService(
  home: string,
  timeoutMs: number,
  progress: ProgressReporter,
): Promise<LocalService> {
  const svc = localService(home);
  if (!svc.running || !svc.pid) return svc;
  progress.update({ step: 'stop service', message: `stopping the local node (pid ${svc.pid})` });
  const supervisor = supervisorPid(home);
  process.kill(supervisor ?? svc.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(svc.pid) || (supervisor !== undefined && pidAlive(supervisor))) {
    if (Date.now() > deadline) {
      throw new PreconditionError(
        `The local Cuttle service (pid ${svc.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`,
        {
          code: 'SERVICE_STOP_TIMEOUT',
          hints: ['Stop it with `cuttle service --stop`, then run the move again with --resume.'],
        },
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  progress.update({ step: 'stop service', state: 'done', message: `pid ${svc.pid} stopped` });
  return svc;
}

/** Nodes other than `exclude` that sent a heartbeat recently and are not stopped or retired. */
export async function runningNodes(
  db: Kysely<Database>,
  exclude: { ids: string[]; names: string[] },
): Promise<LiveNode[]> {
  return (await liveNodes(db)).filter((r) => !exclude.ids.includes(r.id) && !exclude.names.includes(r.name));
}

export function nodesStillRunning(rows: LiveNode[]): PreconditionError {
  return new PreconditionError(
    `${rows.length} other node(s) of this instance are still running against the database: ${rows.map((r) => `${r.name} on ${r.host} (last seen ${r.lastSeen})`).join(', ')}.`,
    {
      code: 'NODES_STILL_RUNNING',
      hints: [
        'Stop the service on each of them (`cuttle service --stop`), then run the move again with --resume.',
      ],
    },
  );
}
