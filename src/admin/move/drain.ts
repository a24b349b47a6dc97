import type { Kysely } from 'kysely';
import { PreconditionError } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import type { Database } from '../../storage/schema/database-types.js';
import { runningNodes } from './service-control.js';

const ACTIVE = ['Queued', 'Executing', 'Cancelling'];

async function activeTasks(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('server_tasks')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('state', 'in', ACTIVE)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * Waits until no task is queued, executing or cancelling, showing the live count. When no node is
 * running, nothing can make progress: the tasks are copied as they are and run on the new database
 * once the service starts there (a queued deployment is data like any other).
 */
export async function drainTasks(
  db: Kysely<Database>,
  timeoutSeconds: number,
  progress: ProgressReporter,
  localServiceRunning: boolean,
): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let first: number | undefined;
  for (;;) {
    const n = await activeTasks(db);
    first ??= n;
    if (n === 0) {
      progress.update({ step: 'drain', state: 'done', message: 'no task is running or queued' });
      return first;
    }
    const nodes = await runningNodes(db, { ids: [], names: [] });
    if (nodes.length === 0 && !localServiceRunning) {
      progress.note(
        `${n} task(s) are queued or executing but no node is running to finish them; they are copied as they are and continue on the new database.`,
      );
      progress.update({ step: 'drain', state: 'done' });
      return first;
    }
    if (Date.now() > deadline) {
      throw new PreconditionError(
        `${n} task(s) were still running or queued after ${timeoutSeconds} s of draining.`,
        {
          code: 'DRAIN_TIMEOUT',
          hints: [
            'Wait for them (or cancel them), then run the move again; --drain-timeout SECONDS waits longer.',
          ],
        },
      );
    }
    progress.update({ step: 'drain', done: first - n, total: first, unit: 'tasks', message: `(${n} left)` });
    await new Promise((r) => setTimeout(r, 500));
  }
}
