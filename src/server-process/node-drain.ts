import type { Kysely } from 'kysely';
import { readNodeDrain } from '../core/node-service.js';
import type { Database } from '../storage/schema/database-types.js';
import type { TaskExecutor } from '../tasks/task-executor.js';

const CHECK_MS = 2_000;

/**
 * Applies this node's drain switch (set by an administrator through PUT /api/octopusservernodes/{id},
 * on any node): while it is on, the executor takes no new tasks (cap 0) and running ones finish,
 * the ping route answers 418 so load balancers move away, and the portal shows a banner.
 */
export function watchNodeDrain(
  db: Kysely<Database>,
  nodeId: string,
  executor: TaskExecutor,
  taskCap: number,
) {
  let draining = false;
  let cap = taskCap;
  const check = async () => {
    const d = await readNodeDrain(db, nodeId);
    const nextCap = d.IsInMaintenanceMode ? 0 : (d.MaxConcurrentTasks ?? taskCap);
    draining = d.IsInMaintenanceMode;
    if (nextCap !== cap) {
      cap = nextCap;
      executor.setTaskCap(nextCap);
    }
  };
  const timer = setInterval(() => {
    check().catch(() => {});
  }, CHECK_MS);
  timer.unref();
  return {
    check,
    get draining() {
      return draining;
    },
    stop: () => clearInterval(timer),
  };
}
