import os from 'node:os';
import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import { PreconditionError } from '../lib/errors.js';
import { CUTTLE_VERSION } from '../lib/version.js';
import { nextChangeNumber } from '../storage/repositories/id-allocator.js';
import type { Database } from '../storage/schema/database-types.js';
import { NODE_GONE_MS } from './lease-timing.js';

export { NODE_HEARTBEAT_MS } from './lease-timing.js';

/**
 * This node's row in `server_nodes`. Status: 'live' while running, 'stopped' after a clean exit,
 * 'retired' when an administrator took the node out of the cluster for good (a move of the server
 * does that to the old node): a retired node refuses to start, so a forgotten old server cannot
 * come back and claim tasks against the moved database.
 */

export type NodeStatus = 'live' | 'stopped' | 'retired';

export async function assertNodeNotRetired(
  db: Kysely<Database>,
  nodeId: string,
  opts: { allowRetired?: boolean } = {},
): Promise<void> {
  const row = await db
    .selectFrom('server_nodes')
    .select(['status'])
    .where('id', '=', nodeId)
    .executeTakeFirst();
  if (row?.status === 'retired' && !opts.allowRetired) {
    throw new PreconditionError(
      `The node "${nodeId}" is retired and must not run against this database any more.`,
      {
        code: 'NODE_RETIRED',
        hints: [
          'This server was replaced (for example by `cuttle move server`). Start the new server instead.',
          'To bring this node back on purpose, start it with --allow-retired-node.',
        ],
      },
    );
  }
}

/**
 * On an engine that serves one node (SQLite), another node with a fresh heartbeat refuses this one:
 * two nodes on one file would contend for its single writer and both claim tasks.
 */
export async function assertOnlyNode(
  db: Kysely<Database>,
  nodeId: string,
  engine: { displayName: string; multiNode: boolean },
  instanceName: string,
): Promise<void> {
  if (engine.multiNode) return;
  const fresh = new Date(Date.now() - NODE_GONE_MS).toISOString();
  const other = await db
    .selectFrom('server_nodes')
    .select(['id', 'host', 'last_seen'])
    .where('status', '=', 'live')
    .where('last_seen', '>=', fresh)
    .where('id', '!=', nodeId)
    .executeTakeFirst();
  if (!other) return;
  throw new PreconditionError(
    `Node "${other.id}" (on ${other.host}, last seen ${other.last_seen}) already runs on this ${engine.displayName} database, which serves one node; "${nodeId}" does not start.`,
    {
      code: 'ENGINE_SINGLE_NODE',
      hints: [
        'Several nodes (high availability) need PostgreSQL or MariaDB. Move the database first, then start the other nodes on it:',
        `  cuttle database move --instance ${instanceName} --to-file FILE --yes   (FILE: the PostgreSQL or MariaDB connection string)`,
        `Or stop node "${other.id}" first (a node whose heartbeat is older than ${NODE_GONE_MS / 1000} s does not count).`,
      ],
    },
  );
}

export interface NodeRegistration {
  nodeId: string;
  taskCap: number;
  allowRetired?: boolean;
  /** The engine and instance, for the single-node rule (assertOnlyNode); without it, not checked. */
  singleNode?: { engine: { displayName: string; multiNode: boolean }; instanceName: string };
}

/**
 * Marks this node live (creating its row on first start), after refusing a retired node and then,
 * on an engine that serves one node, a second live one.
 */
export async function registerNode(db: Kysely<Database>, reg: NodeRegistration): Promise<void> {
  await assertNodeNotRetired(db, reg.nodeId, { allowRetired: reg.allowRetired });
  if (reg.singleNode)
    await assertOnlyNode(db, reg.nodeId, reg.singleNode.engine, reg.singleNode.instanceName);
  const now = nowIso();
  const values = {
    name: reg.nodeId,
    host: os.hostname(),
    version: CUTTLE_VERSION,
    status: 'live',
    draining: false,
    task_cap: reg.taskCap,
    running_tasks: 0,
    started: now,
    last_seen: now,
    change_number: await nextChangeNumber(db),
  };
  const r = await db.updateTable('server_nodes').set(values).where('id', '=', reg.nodeId).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) {
    await db
      .insertInto('server_nodes')
      .values({ id: reg.nodeId, ...values })
      .execute();
  }
}

/** The heartbeat: proves the node alive (the sweeper leaves its tasks alone) and publishes its load. */
export async function heartbeatNode(
  db: Kysely<Database>,
  nodeId: string,
  state: { runningTasks: number; draining: boolean; taskCap: number },
): Promise<void> {
  await db
    .updateTable('server_nodes')
    .set({
      last_seen: nowIso(),
      running_tasks: state.runningTasks,
      draining: state.draining,
      task_cap: state.taskCap,
    })
    .where('id', '=', nodeId)
    .where('status', '=', 'live')
    .execute();
}

export async function markNodeStopped(db: Kysely<Database>, nodeId: string): Promise<void> {
  await db
    .updateTable('server_nodes')
    .set({
      status: 'stopped',
      running_tasks: 0,
      draining: false,
      last_seen: nowIso(),
      change_number: await nextChangeNumber(db),
    })
    .where('id', '=', nodeId)
    .where('status', '=', 'live')
    .execute();
}
