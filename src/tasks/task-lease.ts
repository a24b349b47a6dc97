import type { Kysely } from 'kysely';
import { isoAfter, nowIso } from '../lib/clock.js';
import { nextChangeNumber } from '../storage/repositories/id-allocator.js';
import type { Database } from '../storage/schema/database-types.js';
import { notifyTaskStateChange } from './handler-registry.js';
import { ACTIVE_STATES, toTaskRecord } from './task-rows.js';

/** A lease is 60 s and renewed every 20 s: two renewals may fail (a database blip) before it runs out. */
export const LEASE_MS = 60_000;
/** A node whose heartbeat (every 5 s) is older than this is gone: six missed beats. */
export const NODE_GONE_MS = 30_000;
/** A task whose node died is run again at most this many times in all, then failed. */
const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * Extends the leases of tasks this node runs. Returns the ids whose lease is no longer ours.
 * No change number: a lease is coordination state, not data a catch-up copy has to carry.
 */
export async function renewLeases(
  db: Kysely<Database>,
  nodeId: string,
  taskIds: string[],
  leaseMs = LEASE_MS,
): Promise<string[]> {
  if (!taskIds.length) return [];
  await db
    .updateTable('server_tasks')
    .set({ lease_until: isoAfter(leaseMs) })
    .where('node_id', '=', nodeId)
    .where('id', 'in', taskIds)
    .where('state', 'in', ACTIVE_STATES)
    .execute();
  const ours = await db
    .selectFrom('server_tasks')
    .select('id')
    .where('node_id', '=', nodeId)
    .where('id', 'in', taskIds)
    .where('state', 'in', ACTIVE_STATES)
    .execute();
  const held = new Set(ours.map((r) => r.id));
  return taskIds.filter((id) => !held.has(id));
}

/** Of the tasks this node runs, those somebody asked to cancel. */
export async function cancelRequested(
  db: Kysely<Database>,
  nodeId: string,
  taskIds: string[],
): Promise<string[]> {
  if (!taskIds.length) return [];
  const rows = await db
    .selectFrom('server_tasks')
    .select('id')
    .where('node_id', '=', nodeId)
    .where('id', 'in', taskIds)
    .where('cancel_requested', '=', true)
    .execute();
  return rows.map((r) => r.id);
}

export interface SweepOptions {
  maxAttempts?: number;
  /** Sweep this node's own active tasks whatever their lease: they belong to a previous run of it. */
  ownNodeId?: string;
}

export interface SweepResult {
  requeued: string[];
  failed: string[];
  canceled: string[];
}

/**
 * Gives back tasks whose node is gone: lease expired and no fresh heartbeat from the node (or the
 * node is this one, restarted). Each is requeued, or failed once it has used its attempts, or
 * Canceled if a cancel was already requested. Every update is conditional on the row being
 * unchanged, so two nodes sweeping at once cannot both act on one task.
 */
export async function sweepExpiredLeases(
  db: Kysely<Database>,
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const now = nowIso();
  const goneBefore = new Date(Date.now() - NODE_GONE_MS).toISOString();
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const liveNodes = db
    .selectFrom('server_nodes')
    .select('server_nodes.id')
    .where('server_nodes.status', '=', 'live')
    .where('server_nodes.last_seen', '>=', goneBefore);
  const rows = await db
    .selectFrom('server_tasks')
    .selectAll()
    .where('state', 'in', ACTIVE_STATES)
    .where((eb) => {
      const expired = eb.and([
        eb('lease_until', '<', now),
        eb.or([eb('node_id', 'is', null), eb('node_id', 'not in', liveNodes)]),
      ]);
      return opts.ownNodeId ? eb.or([expired, eb('node_id', '=', opts.ownNodeId)]) : expired;
    })
    .execute();
  const result: SweepResult = { requeued: [], failed: [], canceled: [] };
  for (const row of rows) {
    const canceled = row.state === 'Cancelling';
    const exhausted = Number(row.attempts) >= maxAttempts;
    const node = row.node_id ?? 'unknown';
    const state = canceled ? 'Canceled' : exhausted ? 'Failed' : 'Queued';
    const message = canceled
      ? `The task was canceled; node ${node} stopped before it could finish it.`
      : exhausted
        ? `Node ${node} stopped responding while running this task, after ${row.attempts} attempt(s).`
        : null;
    const r = await db
      .updateTable('server_tasks')
      .set({
        state,
        node_id: state === 'Queued' ? null : row.node_id,
        lease_until: null,
        start_time: state === 'Queued' ? null : row.start_time,
        completed_time: state === 'Queued' ? null : now,
        error_message: message,
        has_warnings_or_errors: state !== 'Queued',
        last_updated: now,
        change_number: await nextChangeNumber(db),
      })
      .where('id', '=', row.id)
      .where('state', '=', row.state)
      .where('change_number', '=', row.change_number)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) continue;
    if (state === 'Queued') result.requeued.push(row.id);
    else {
      (canceled ? result.canceled : result.failed).push(row.id);
      await notifyTaskStateChange({ task: toTaskRecord(row), state, errorMessage: message, db });
    }
  }
  return result;
}
