import type { Kysely } from 'kysely';
import { NotFoundError } from '../lib/errors.js';
import { getMetaJson, setMeta } from '../storage/repositories/metadata-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { NODE_GONE_MS } from '../tasks/lease-timing.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';

/**
 * Server nodes in Octopus's shape (`/api/octopusservernodes`). The drain switch
 * (`IsInMaintenanceMode` on a node, as Octopus calls it) is stored in the database, under
 * `node-drain/<id>`, so the switch works for any node: each node reads its own switch on its
 * heartbeat (server-process/node-drain.ts), stops taking new tasks, and lets running ones end.
 */
export interface NodeDrain {
  IsInMaintenanceMode: boolean;
  MaxConcurrentTasks?: number;
  ModifiedBy?: string;
  ModifiedOn?: string;
}

const nodeDrainKey = (nodeId: string) => `node-drain/${nodeId}`;

export async function readNodeDrain(db: Kysely<Database>, nodeId: string): Promise<NodeDrain> {
  return (await getMetaJson<NodeDrain>(db, nodeDrainKey(nodeId))) ?? { IsInMaintenanceMode: false };
}

type NodeRow = Awaited<ReturnType<typeof listNodeRows>>[number];

async function listNodeRows(db: Kysely<Database>) {
  return db.selectFrom('server_nodes').selectAll().orderBy('name').execute();
}

function nodeResource(row: NodeRow, drain: NodeDrain, now: number) {
  const seen = Date.parse(row.last_seen);
  return {
    Id: row.id,
    Name: row.name,
    Host: row.host,
    Version: row.version,
    Status: row.status,
    LastSeen: row.last_seen,
    Rank: 'Follower',
    MaxConcurrentTasks: drain.MaxConcurrentTasks ?? Number(row.task_cap),
    RunningTasks: Number(row.running_tasks),
    IsInMaintenanceMode: drain.IsInMaintenanceMode,
    IsDraining: drain.IsInMaintenanceMode,
    DrainModifiedBy: drain.ModifiedBy ?? null,
    DrainModifiedOn: drain.ModifiedOn ?? null,
    IsOffline: row.status !== 'live' || now - seen > NODE_GONE_MS,
    Links: { Self: `/api/octopusservernodes/${row.id}` },
  };
}

export async function listNodes(db: Kysely<Database>) {
  const rows = await listNodeRows(db);
  const now = Date.now();
  const out = [];
  for (const r of rows) out.push(nodeResource(r, await readNodeDrain(db, r.id), now));
  // Octopus calls the oldest live node the leader; Cuttle has no leader, so "Leader" marks the first live one.
  const first = out.find((n) => !n.IsOffline);
  if (first) first.Rank = 'Leader';
  return out;
}

export async function getNodeResource(db: Kysely<Database>, id: string) {
  const n = (await listNodes(db)).find((x) => x.Id === id);
  if (!n) throw new NotFoundError(`The server node ${id} does not exist.`, { code: 'NODE_NOT_FOUND' });
  return n;
}

/** Switches a node's drain on or off (and its task cap, when given); the node applies it within a heartbeat. */
export async function setNodeDrain(
  db: Kysely<Database>,
  actor: Actor,
  id: string,
  change: { IsInMaintenanceMode?: boolean; MaxConcurrentTasks?: number },
) {
  requireAdministrator(actor, 'drain server nodes');
  await getNodeResource(db, id);
  const before = await readNodeDrain(db, id);
  const next: NodeDrain = {
    IsInMaintenanceMode: change.IsInMaintenanceMode ?? before.IsInMaintenanceMode,
    MaxConcurrentTasks: change.MaxConcurrentTasks ?? before.MaxConcurrentTasks,
    ModifiedBy: actor.username,
    ModifiedOn: new Date().toISOString(),
  };
  await db.transaction().execute(async (tx) => {
    await setMeta(tx, nodeDrainKey(id), JSON.stringify(next));
    await writeEvent(tx, {
      category: 'Modified',
      message: `Server node ${id} ${next.IsInMaintenanceMode ? 'was set to drain' : 'takes tasks again'}${
        next.MaxConcurrentTasks !== undefined ? ` (up to ${next.MaxConcurrentTasks} tasks)` : ''
      }.`,
      relatedDocumentIds: [id],
      ...eventActor(actor),
    });
  });
  return getNodeResource(db, id);
}
