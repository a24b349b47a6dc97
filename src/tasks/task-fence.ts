import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import { RuntimeFailure } from '../lib/errors.js';
import type { Database } from '../storage/schema/database-types.js';
import { ACTIVE_STATES } from './task-rows.js';

/**
 * A claim of one task by one node: the fencing token every write the node makes as the task's
 * owner carries. The epoch is the task's `attempts`, which only a claim changes (it adds one), so a
 * task swept from a dead node and claimed again has a new epoch, and the old claim's writes no
 * longer match the row.
 */
export interface TaskFence {
  readonly taskId: string;
  readonly nodeId: string;
  readonly epoch: number;
  /** The database's clock (EngineCapabilities.nowTimestampSql): a lease has run out by its time. */
  readonly nowSql: string;
}

export class LeaseLostError extends RuntimeFailure {
  constructor(fence: TaskFence) {
    super(
      `Node ${fence.nodeId} no longer holds task ${fence.taskId} (its lease ran out or the task was given to another node): the write was refused.`,
      { code: 'TASK_LEASE_LOST' },
    );
    this.name = 'LeaseLostError';
  }
}

/**
 * The condition on `server_tasks` true while the claim still owns the task: same node, same
 * epoch, an active state, and a lease that has not run out by the database's clock.
 */
export function ownedBy(f: TaskFence) {
  return (eb: ExpressionBuilder<Database, 'server_tasks'>) =>
    eb.and([
      eb('server_tasks.id', '=', f.taskId),
      eb('server_tasks.node_id', '=', f.nodeId),
      eb('server_tasks.attempts', '=', f.epoch),
      eb('server_tasks.state', 'in', ACTIVE_STATES),
      eb('server_tasks.lease_until', '>', sql<string>`${sql.raw(f.nowSql)}`),
    ]);
}

/**
 * Runs `write` in one transaction that first checks the claim still owns the task, and refuses
 * (LeaseLostError, nothing written) when it does not. The check is an UPDATE of the task's row, so
 * the transaction holds that row's lock until it commits: a sweep that takes the task waits for
 * the write to commit, or the write's check sees the sweep. The update changes nothing (the row
 * keeps its change number): mysql2 counts matched rows, not changed ones, so it still reports 1.
 */
export async function fencedWrite<T>(
  db: Kysely<Database>,
  fence: TaskFence,
  write: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('server_tasks')
      .set({ lease_until: sql<string>`lease_until` })
      .where(ownedBy(fence))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new LeaseLostError(fence);
    return write(trx);
  });
}
