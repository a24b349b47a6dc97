import type { Kysely } from 'kysely';
import type { InstanceConfig } from '../../config/instance-config.js';
import { PreconditionError } from '../../lib/errors.js';
import { pidFilePath, runningPid } from '../../server-process/run-files.js';
import type { Database } from '../../storage/schema/database-types.js';

/**
 * Is a node of the instance running? Two signals: the pid file the service keeps in
 * <home>/run/cuttle.pid (server-process/run-files.ts), and server_nodes rows whose heartbeat is
 * younger than 15 s (a node reports every few seconds; 15 s is three missed beats).
 */
export const LIVE_NODE_WINDOW_MS = 15_000;
const NOT_RUNNING = ['stopped', 'retired', 'offline', 'dead'];

export interface LiveNode {
  id: string;
  name: string;
  host: string;
  lastSeen: string;
}

export async function liveNodes(db: Kysely<Database>, onlyName?: string): Promise<LiveNode[]> {
  const since = new Date(Date.now() - LIVE_NODE_WINDOW_MS).toISOString();
  let q = db
    .selectFrom('server_nodes')
    .select(['id', 'name', 'host', 'status', 'last_seen'])
    .where('last_seen', '>=', since)
    .where('status', 'not in', NOT_RUNNING);
  if (onlyName) q = q.where('name', '=', onlyName);
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, name: r.name, host: r.host, lastSeen: r.last_seen }));
}

function stopHint(instanceName: string): string {
  return `Stop it first: cuttle service --stop --instance ${instanceName}`;
}

/** Refuses when this instance's service runs on this machine (pid file), or, given a db, when nodes are live. */
export async function assertServiceStopped(
  cfg: InstanceConfig,
  what: string,
  opts: { db?: Kysely<Database>; allNodes?: boolean } = {},
): Promise<void> {
  const pid = runningPid(cfg.home);
  if (pid !== undefined) {
    throw new PreconditionError(
      `Cannot ${what} while the service of instance "${cfg.instanceName}" runs (pid ${pid}, ${pidFilePath(cfg.home)}).`,
      { code: 'SERVICE_RUNNING', hints: [stopHint(cfg.instanceName)] },
    );
  }
  if (!opts.db) return;
  const nodes = await liveNodes(opts.db, opts.allNodes ? undefined : cfg.nodeName);
  if (nodes.length) {
    throw new PreconditionError(
      `Cannot ${what} while ${nodes.length === 1 ? 'a node' : `${nodes.length} nodes`} of the instance ${nodes.length === 1 ? 'is' : 'are'} running.`,
      {
        code: 'NODES_STILL_RUNNING',
        details: nodes.map((n) => `${n.name} on ${n.host} (last seen ${n.lastSeen})`),
        hints: [
          `${stopHint(cfg.instanceName)} (on every machine listed).`,
          'A node that crashed counts as stopped 15 seconds after its last heartbeat.',
        ],
      },
    );
  }
}
