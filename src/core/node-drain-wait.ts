import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema/database-types.js';
import { requestCancel } from '../tasks/task-queue.js';
import { ACTIVE_STATES } from '../tasks/task-rows.js';

/** The tasks a node runs now (Executing or Cancelling on it), oldest first. */
export async function tasksOnNode(db: Kysely<Database>, nodeId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('server_tasks')
    .select('id')
    .where('node_id', '=', nodeId)
    .where('state', 'in', ACTIVE_STATES)
    .orderBy('start_time')
    .execute();
  return rows.map((r) => r.id);
}

/** Asks every task the node runs to cancel (the node's executor stops them); returns their ids. */
export async function cancelTasksOnNode(db: Kysely<Database>, nodeId: string): Promise<string[]> {
  const ids = await tasksOnNode(db, nodeId);
  for (const id of ids) await requestCancel(db, id);
  return ids;
}

/**
 * Waits until the node runs no task, or `seconds` pass; resolves with the tasks still running then
 * (empty: drained). `onWaiting` hears the count each time it changes.
 */
export async function waitNodeIdle(
  db: Kysely<Database>,
  nodeId: string,
  seconds: number,
  onWaiting: (running: string[]) => void = () => {},
): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  let last = -1;
  for (;;) {
    const running = await tasksOnNode(db, nodeId);
    if (running.length !== last) {
      last = running.length;
      if (running.length) onWaiting(running);
    }
    if (!running.length || Date.now() >= deadline) return running;
    await new Promise((r) => setTimeout(r, 250));
  }
}
