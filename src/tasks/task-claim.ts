import { type Kysely, type Selectable, sql } from 'kysely';
import { isoAfter, nowIso } from '../lib/clock.js';
import { nextChangeNumber } from '../storage/repositories/id-allocator.js';
import type { Database, ServerTaskRow } from '../storage/schema/database-types.js';
import type { Storage } from '../storage/storage.js';
import { toTaskRecord } from './task-rows.js';
import type { TaskRecord } from './task-types.js';

export interface ClaimOptions {
  nodeId: string;
  /** How many tasks at most (the node's free slots). */
  limit: number;
  leaseMs: number;
}

/**
 * Claims up to `limit` queued tasks for one node: state Executing, lease, attempts + 1.
 *
 * Three strategies, chosen by dialect capability, never by engine name:
 * - singleWriter (SQLite): one `UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING *`. A single
 *   statement takes the write lock before it reads, so there is no read-then-upgrade window in
 *   which another writer could slip in (which a deferred BEGIN would have).
 * - supportsSkipLocked (PostgreSQL, MySQL 8, MariaDB 10.6+): in one transaction,
 *   `SELECT id ... FOR UPDATE SKIP LOCKED LIMIT n`, then UPDATE those ids, then read them back
 *   (MySQL has no RETURNING). Concurrent nodes skip each other's rows instead of queueing on them.
 * - otherwise: optimistic per-row `UPDATE ... WHERE state = 'Queued'`, keeping the rows we won.
 *
 * Tasks of spaces whose task queue is stopped (`spaces.task_queue_stopped`) are not claimed.
 * The change number is allocated before the transaction: allocating inside it would hold the
 * allocator row lock until commit and serialise every node's claims on it.
 */
export async function claimTasks(storage: Storage, opts: ClaimOptions): Promise<TaskRecord[]> {
  if (opts.limit <= 0) return [];
  const changeNumber = await nextChangeNumber(storage.db);
  const now = nowIso();
  const claimed = {
    state: 'Executing',
    node_id: opts.nodeId,
    lease_until: isoAfter(opts.leaseMs),
    start_time: now,
    last_updated: now,
    attempts: sql<number>`attempts + 1`,
    change_number: changeNumber,
  };
  if (storage.dialect.singleWriter && storage.dialect.supportsReturning) {
    const rows = await storage.db
      .updateTable('server_tasks')
      .set(claimed)
      .where('id', 'in', candidates(storage.db, opts.limit))
      .where('state', '=', 'Queued')
      .returningAll()
      .execute();
    return sortClaimed(rows);
  }
  if (storage.dialect.supportsSkipLocked) {
    const rows = await storage.db.transaction().execute(async (trx) => {
      const picked = await candidates(trx, opts.limit).forUpdate().skipLocked().execute();
      const ids = picked.map((r) => r.id);
      if (!ids.length) return [];
      await trx.updateTable('server_tasks').set(claimed).where('id', 'in', ids).execute();
      return trx.selectFrom('server_tasks').selectAll().where('id', 'in', ids).execute();
    });
    return sortClaimed(rows);
  }
  const picked = await candidates(storage.db, opts.limit).execute();
  const won: Selectable<ServerTaskRow>[] = [];
  for (const { id } of picked) {
    const r = await storage.db
      .updateTable('server_tasks')
      .set(claimed)
      .where('id', '=', id)
      .where('state', '=', 'Queued')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) continue;
    const row = await storage.db
      .selectFrom('server_tasks')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row) won.push(row);
  }
  return sortClaimed(won);
}

/** Queued tasks in run order: priority (higher first), then queue time, then id. */
function candidates(db: Kysely<Database>, limit: number) {
  return db
    .selectFrom('server_tasks')
    .select('id')
    .where('state', '=', 'Queued')
    .where((eb) =>
      eb.or([
        eb('space_id', 'is', null),
        eb(
          'space_id',
          'not in',
          eb.selectFrom('spaces').select('spaces.id').where('spaces.task_queue_stopped', '=', true),
        ),
      ]),
    )
    .orderBy('priority', 'desc')
    .orderBy('queue_time', 'asc')
    .orderBy('id', 'asc')
    .limit(limit);
}

function sortClaimed(rows: Selectable<ServerTaskRow>[]): TaskRecord[] {
  return rows
    .sort((a, b) => Number(b.priority) - Number(a.priority) || a.queue_time.localeCompare(b.queue_time))
    .map(toTaskRecord);
}
