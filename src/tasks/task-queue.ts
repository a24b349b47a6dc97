import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { nextChangeNumber, nextId } from '../storage/repositories/id-allocator.js';
import type { Database } from '../storage/schema/database-types.js';
import { notifyTaskStateChange } from './handler-registry.js';
import { toTaskRecord } from './task-rows.js';
import type { EnqueueInput, TaskState } from './task-types.js';
import { notifyCancelRequested, notifyTaskQueued } from './task-wakeups.js';

/**
 * In-process wake-ups: `enqueued` makes the executor claim at once instead of at its next poll,
 * `cancel` makes it abort a task at once instead of at its next cancel poll. Other processes (the
 * CLI, other nodes) hear of it through the database where its engine can (task-wakeups.ts:
 * PostgreSQL's NOTIFY, sent by enqueueTask and requestCancel), and by polling (≤1 s) anyway.
 */
export const taskEvents = new EventEmitter();
taskEvents.setMaxListeners(100);

/**
 * Wakes the executors of this process. `enqueueTask` does it itself, but an enqueue inside a
 * transaction is invisible until commit: callers that enqueue in a transaction SHOULD call this
 * after the commit, or the task waits for the next poll (≤1 s).
 */
export function wakeTaskExecutors(): void {
  taskEvents.emit('enqueued');
}

/**
 * Queues a task. Pass a transaction as `db` to queue it together with the rows that need it: the
 * other nodes are notified when it commits.
 */
export async function enqueueTask(db: Kysely<Database>, input: EnqueueInput): Promise<string> {
  const id = await nextId(db, 'ServerTasks');
  const now = nowIso();
  await db
    .insertInto('server_tasks')
    .values({
      id,
      space_id: input.spaceId,
      kind: input.kind,
      name: input.name,
      description: input.description,
      state: 'Queued',
      arguments_json: JSON.stringify(input.arguments),
      queue_time: now,
      start_time: null,
      completed_time: null,
      last_updated: now,
      error_message: null,
      has_warnings_or_errors: false,
      node_id: null,
      lease_until: null,
      attempts: 0,
      cancel_requested: false,
      priority: input.priority ?? 0,
      activity_json: '[]',
      change_number: await nextChangeNumber(db),
    })
    .execute();
  await notifyTaskQueued(db);
  if (!db.isTransaction) wakeTaskExecutors();
  return id;
}

/**
 * Cancels a task: a queued one is Canceled at once; an executing one is marked Cancelling with
 * cancel_requested, and the node that runs it aborts it and ends it Canceled: at once when it is
 * this process or the database notifies it (task-wakeups.ts), within a second (its cancel poll)
 * otherwise. Inside a transaction the abort waits for the commit: the notification is sent then,
 * and this process's executors are not woken before (the cancel could still roll back).
 * Returns the state the task is in afterwards. Completed tasks are left as they are.
 */
export async function requestCancel(db: Kysely<Database>, taskId: string): Promise<TaskState> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await db.selectFrom('server_tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    if (!row) throw new NotFoundError(`There is no server task ${taskId}.`, { code: 'NOT_FOUND' });
    const state = row.state as TaskState;
    const now = nowIso();
    if (state === 'Queued') {
      const r = await db
        .updateTable('server_tasks')
        .set({
          state: 'Canceled',
          cancel_requested: true,
          completed_time: now,
          last_updated: now,
          error_message: 'The task was canceled before it started.',
          change_number: await nextChangeNumber(db),
        })
        .where('id', '=', taskId)
        .where('state', '=', 'Queued')
        .executeTakeFirst();
      // Lost a race with a claim: read again and cancel it as an executing task.
      if (Number(r.numUpdatedRows) !== 1) continue;
      await notifyTaskStateChange({ task: toTaskRecord(row), state: 'Canceled', errorMessage: null, db });
      return 'Canceled';
    }
    if (state === 'Executing') {
      const r = await db
        .updateTable('server_tasks')
        .set({
          state: 'Cancelling',
          cancel_requested: true,
          last_updated: now,
          change_number: await nextChangeNumber(db),
        })
        .where('id', '=', taskId)
        .where('state', '=', 'Executing')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) continue;
      await notifyCancelRequested(db, taskId);
      if (!db.isTransaction) taskEvents.emit('cancel', taskId);
      return 'Cancelling';
    }
    return state;
  }
  throw new ConflictError(`Could not cancel ${taskId}: its state kept changing.`, {
    code: 'TASK_CANCEL_CONTENDED',
  });
}
