import { type Kysely, sql } from 'kysely';
import { isoAfter, nowIso } from '../lib/clock.js';
import { nextChangeNumber } from '../storage/repositories/id-allocator.js';
import { projectSettings } from '../storage/repositories/project-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { ActivityTree } from './activity-tree.js';
import { notifyTaskStateChange } from './handler-registry.js';
import { LEASE_MS } from './lease-timing.js';
import { ownedBy, type TaskFence } from './task-fence.js';
import { ACTIVE_STATES, toTaskRecord } from './task-rows.js';

export { LEASE_MS } from './lease-timing.js';

/** A task whose node died is run again at most this many times in all, then failed. */
const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * Extends the leases of the claims this node runs, each only while the claim still owns its task
 * and its lease has not run out by the database's clock (task-fence.ts): a lease that ran out is
 * not revived, because another node may be resolving the task already. Returns the task ids whose
 * claim is lost. No change number: a lease is coordination state, not data a catch-up copy carries.
 */
export async function renewLeases(
  db: Kysely<Database>,
  fences: TaskFence[],
  leaseMs = LEASE_MS,
): Promise<string[]> {
  const lost: string[] = [];
  for (const f of fences) {
    const r = await db
      .updateTable('server_tasks')
      .set({ lease_until: isoAfter(leaseMs) })
      .where(ownedBy(f))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) lost.push(f.taskId);
  }
  return lost;
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
  /** The database's clock (EngineCapabilities.nowTimestampSql): a lease runs out by its time. */
  nowSql: string;
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
 * Gives back tasks whose lease ran out by the database's clock (or whose node is this one,
 * restarted). The lease alone decides, not the node's heartbeat: a claim that could not renew
 * has stopped its scripts and is refused every write as owner (task-fence.ts), so nothing of it
 * runs any more, whether its node is dead, paused, cut off or only failing to renew. The rule, for deployments: a task that had not entered a step (no
 * action started) is requeued, until it has used its attempts; one that had is failed, with a
 * task-log line naming the node and the step, because running a deployment step twice is worse
 * than asking for a redeploy (the dead node's scripts were killed by their watchdog); a task whose
 * cancel was requested is Canceled. Every update is conditional on the row being
 * unchanged, so two nodes sweeping at once cannot both act on one task.
 */
export async function sweepExpiredLeases(db: Kysely<Database>, opts: SweepOptions): Promise<SweepResult> {
  const now = nowIso();
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const rows = await db
    .selectFrom('server_tasks')
    .selectAll()
    .where('state', 'in', ACTIVE_STATES)
    .where((eb) => {
      const expired = eb.or([
        eb('lease_until', 'is', null),
        eb('lease_until', '<=', sql<string>`${sql.raw(opts.nowSql)}`),
      ]);
      return opts.ownNodeId ? eb.or([expired, eb('node_id', '=', opts.ownNodeId)]) : expired;
    })
    .execute();
  const result: SweepResult = { requeued: [], failed: [], canceled: [] };
  for (const row of rows) {
    const canceled = row.state === 'Cancelling';
    const exhausted = Number(row.attempts) >= maxAttempts;
    const node = row.node_id ?? 'unknown';
    const inside = enteredStep(row.activity_json, row.id);
    // a project whose steps are safe to run twice opted into running them again
    const retry = !!inside && !canceled && !exhausted && (await projectRetries(db, row.arguments_json));
    const entered = retry ? undefined : inside;
    const state = canceled ? 'Canceled' : entered || exhausted ? 'Failed' : 'Queued';
    const message = canceled
      ? `The task was canceled; node ${node} stopped before it could finish it.`
      : entered
        ? `Node ${node} stopped responding while this task was inside ${entered.name}. That step may have run in part, so the task is failed, not run again: redeploy to retry.`
        : exhausted
          ? `Node ${node} stopped responding while running this task, after ${row.attempts} attempt(s).`
          : null;
    const r = await db
      .updateTable('server_tasks')
      .set({
        ...(state === 'Failed' ? { activity_json: closedActivities(row.activity_json, now) } : {}),
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
    if (entered && message) await appendLogLine(db, row.id, entered.id, message, now);
    if (retry && inside) {
      const line = `Node ${node} stopped responding while this task was inside ${inside.name}; the project retries on node failure, so the task is queued again (attempt ${Number(row.attempts) + 1} of ${maxAttempts}).`;
      await appendLogLine(db, row.id, inside.id, line, now);
    }
    if (state === 'Queued') result.requeued.push(row.id);
    else {
      (canceled ? result.canceled : result.failed).push(row.id);
      await notifyTaskStateChange({ task: toTaskRecord(row), state, errorMessage: message, db });
    }
  }
  return result;
}

/** Whether the deployment's project opted into running a task again after its node died. */
async function projectRetries(db: Kysely<Database>, argumentsJson: string): Promise<boolean> {
  let projectId: unknown;
  try {
    projectId = (JSON.parse(argumentsJson) as { ProjectId?: unknown }).ProjectId;
  } catch {
    return false;
  }
  if (typeof projectId !== 'string') return false;
  const row = await db.selectFrom('projects').select('json').where('id', '=', projectId).executeTakeFirst();
  return projectSettings(row?.json).RetryOnNodeFailure;
}

/** The step whose action had started (the last one), from the stored activity tree; else undefined. */
function enteredStep(activityJson: string, taskId: string): { id: string; name: string } | undefined {
  const nodes = ActivityTree.parse(activityJson);
  const byId = new Map(nodes.map((n) => [n.Id, n]));
  const actions = nodes.filter(
    (n) =>
      n.ParentId && n.ParentId !== taskId && n.Started && n.Status !== 'Pending' && n.Status !== 'Skipped',
  );
  const last = actions.at(-1);
  if (!last) return undefined;
  const step = byId.get(last.ParentId!);
  return { id: step?.Id ?? last.Id, name: step?.Name ?? last.Name };
}

/** The stored tree with every activity still open ended as Failed. */
function closedActivities(activityJson: string, now: string): string {
  const nodes = ActivityTree.parse(activityJson).map((n) =>
    n.Ended === null ? { ...n, Status: 'Failed' as const, Ended: now } : n,
  );
  return JSON.stringify(nodes);
}

/** One Error line at the end of a task's log, written by the node that resolved the task. */
async function appendLogLine(
  db: Kysely<Database>,
  taskId: string,
  activityId: string,
  text: string,
  now: string,
): Promise<void> {
  const last = await db
    .selectFrom('task_log_chunks')
    .select((eb) => eb.fn.max('seq').as('max'))
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  await db
    .insertInto('task_log_chunks')
    .values({
      task_id: taskId,
      seq: Number(last?.max ?? 0) + 1,
      activity_id: activityId,
      category: 'Error',
      occurred: now,
      text,
    })
    .execute()
    .catch(() => {}); // a log line lost to a race is not worth undoing the resolution for
}
