import type { Kysely } from 'kysely';
import { NotFoundError } from '../lib/errors.js';
import { getMetaJson, setMeta } from '../storage/repositories/metadata-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { NODE_GONE_MS, NODE_REMOVE_AFTER_MS } from '../tasks/lease-timing.js';
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

/**
 * Takes nodes that have not been seen for NODE_REMOVE_AFTER_MS (an hour at the default lease)
 * off the node list, each with an event, so that no ghost node stays listed after its machine
 * was switched off or replaced. Retired nodes stay: their row is what refuses a forgotten old
 * server. A removed node that starts again registers afresh. The delete is conditional on the row
 * being unchanged, so two nodes cleaning up at once write one event.
 */
export async function removeOfflineNodes(db: Kysely<Database>, now = Date.now()): Promise<string[]> {
  const before = new Date(now - NODE_REMOVE_AFTER_MS).toISOString();
  const rows = await db
    .selectFrom('server_nodes')
    .select(['id', 'last_seen', 'host'])
    .where('status', 'in', ['live', 'stopped'])
    .where('last_seen', '<', before)
    .execute();
  const removed: string[] = [];
  for (const r of rows) {
    const d = await db
      .deleteFrom('server_nodes')
      .where('id', '=', r.id)
      .where('last_seen', '=', r.last_seen)
      .where('status', 'in', ['live', 'stopped'])
      .executeTakeFirst();
    if (Number(d.numDeletedRows) !== 1) continue;
    removed.push(r.id);
    await writeEvent(db, {
      category: 'Deleted',
      message: `Node ${r.id} (${r.host}) was removed from the node list: not seen since ${r.last_seen}, over ${Math.round(NODE_REMOVE_AFTER_MS / 60_000)} minutes. It registers again if it starts.`,
      relatedDocumentIds: [r.id],
    });
  }
  return removed;
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
