import type { MasterKey } from '../crypto/master-key.js';
import { nowIso } from '../lib/clock.js';
import { CuttleError, RuntimeFailure } from '../lib/errors.js';
import { nextChangeNumber } from '../storage/repositories/id-allocator.js';
import type { Storage } from '../storage/storage.js';
import { ActivityTree } from './activity-tree.js';
import { getTaskHandler, notifyTaskStateChange } from './handler-registry.js';
import { ownedBy, type TaskFence } from './task-fence.js';
import { TaskLogWriter } from './task-log-writer.js';
import type { ActivityStatus, TaskRecord, TaskState } from './task-types.js';

/** Why a running task's AbortController fired; decides its final state. */
export type AbortCause = 'cancel' | 'shutdown' | 'timeout' | 'leaseLost';

export class TaskAbort extends Error {
  constructor(readonly why: AbortCause) {
    super(
      why === 'cancel'
        ? 'The task was canceled.'
        : why === 'timeout'
          ? 'The task ran longer than its time limit.'
          : why === 'leaseLost'
            ? 'The node running the task could not renew its lease in time (database unreachable or the node paused), so it stopped the task: the node that resolves it says what happens next.'
            : 'The node running the task was stopped.',
    );
    this.name = 'TaskAbort';
  }
}

export interface RunDeps {
  storage: Storage;
  key: MasterKey;
  home: string;
  nodeId: string;
  keepWorkFolders?: boolean;
  onError: (err: unknown) => void;
}

interface Outcome {
  state: TaskState;
  error: string | null;
  warnings: boolean;
  /** A typed error's details and hints (lib/errors.ts): logged after the error, as the CLI prints them. */
  more?: string[];
}

const ROOT_STATUS: Record<string, ActivityStatus> = {
  Success: 'Success',
  Failed: 'Failed',
  Canceled: 'Canceled',
  TimedOut: 'Failed',
};

/**
 * Runs one claimed task to its end and records the end: final state, completed time, error
 * message, activity tree, last log lines. Every write is fenced (task-fence.ts): the row is
 * updated only while this claim still holds the task and its lease has not run out, so a task the
 * sweeper gave away is not overwritten, and a claim that lost its lease aborts itself.
 * It never throws: every failure becomes the task's outcome.
 */
export async function runClaimedTask(
  deps: RunDeps,
  task: TaskRecord,
  controller: AbortController,
): Promise<TaskState> {
  const db = deps.storage.db;
  await notifyTaskStateChange({ task, state: 'Executing', db }, deps.onError);
  let log: TaskLogWriter | undefined;
  let activities: ActivityTree | undefined;
  let outcome: Outcome;
  const fence = claimFence(deps, task);
  const onLeaseLost = () => {
    if (!controller.signal.aborted) controller.abort(new TaskAbort('leaseLost'));
  };
  try {
    // A first attempt has no earlier log to continue: skip the max(seq) lookup.
    log = await TaskLogWriter.open(db, task.id, { fresh: task.attempts <= 1, fence, onLeaseLost });
    activities = new ActivityTree(db, task.id, task.description || task.name, [], { fence, onLeaseLost });
    log.write('Verbose', `${task.name} started on node ${deps.nodeId} (attempt ${task.attempts}).`);
    const handler = getTaskHandler(task.kind);
    if (!handler)
      throw new RuntimeFailure(`This server has no handler for tasks of kind "${task.kind}".`, {
        code: 'TASK_HANDLER_MISSING',
      });
    const result = await handler({
      task,
      signal: controller.signal,
      log,
      activities,
      storage: deps.storage,
      key: deps.key,
      home: deps.home,
      keepWorkFolders: deps.keepWorkFolders,
      nodeId: deps.nodeId,
    });
    outcome = controller.signal.aborted
      ? aborted(controller.signal.reason)
      : { state: 'Success', error: null, warnings: !!result?.warnings };
  } catch (err) {
    outcome = controller.signal.aborted ? aborted(controller.signal.reason) : failed(err);
  }
  if (log && outcome.error) outcome.error = log.maskText(outcome.error);
  if (log && outcome.more) outcome.more = outcome.more.map((m) => log!.maskText(m));
  return record(deps, fence, task, outcome, log, activities);
}

/** The fencing token of this run: the claim's epoch is the attempt number the claim gave it. */
export function claimFence(deps: Pick<RunDeps, 'storage' | 'nodeId'>, task: TaskRecord): TaskFence {
  return {
    taskId: task.id,
    nodeId: deps.nodeId,
    epoch: task.attempts,
    nowSql: deps.storage.capabilities.nowTimestampSql,
  };
}

function aborted(reason: unknown): Outcome {
  const cause = reason instanceof TaskAbort ? reason.why : 'cancel';
  const message = reason instanceof TaskAbort ? reason.message : 'The task was canceled.';
  const state = cause === 'timeout' ? 'TimedOut' : cause === 'leaseLost' ? 'Failed' : 'Canceled';
  return { state, error: message, warnings: true };
}

function failed(err: unknown): Outcome {
  const e = err instanceof Error ? err : new Error(String(err));
  const more = e instanceof CuttleError ? [...e.details, ...e.hints] : [];
  // ScriptTimeoutError (script-runner.ts) is named TimedOut: a step timeout ends the task TimedOut.
  return {
    state: e.name === 'TimedOut' ? 'TimedOut' : 'Failed',
    error: e.message,
    warnings: true,
    ...(more.length ? { more } : {}),
  };
}

async function record(
  deps: RunDeps,
  fence: TaskFence,
  task: TaskRecord,
  outcome: Outcome,
  log: TaskLogWriter | undefined,
  activities: ActivityTree | undefined,
): Promise<TaskState> {
  const db = deps.storage.db;
  try {
    if (outcome.error) log?.write(outcome.state === 'Canceled' ? 'Warning' : 'Error', outcome.error);
    for (const line of outcome.more ?? []) log?.write('Info', line);
    log?.write('Verbose', `${task.name} finished: ${outcome.state}.`);
    activities?.finishAll(
      ROOT_STATUS[outcome.state] ?? 'Failed',
      outcome.state === 'Canceled' ? 'Canceled' : 'Failed',
    );
    await log?.close();
    // No separate activity write: the final update below carries activity_json.
    activities?.cancelPending();
  } catch (err) {
    // The outcome still has to be recorded: a task must not stay Executing because a log write failed.
    deps.onError(err);
  }
  const r = await withRetry(deps, async () => {
    const now = nowIso();
    return db
      .updateTable('server_tasks')
      .set({
        state: outcome.state,
        completed_time: now,
        last_updated: now,
        error_message: outcome.error,
        has_warnings_or_errors: outcome.warnings || outcome.state !== 'Success',
        lease_until: null,
        ...(activities ? { activity_json: JSON.stringify(activities.toJSON()) } : {}),
        change_number: await nextChangeNumber(db),
      })
      .where(ownedBy(fence))
      .executeTakeFirst();
  });
  if (Number(r.numUpdatedRows) === 1) {
    await notifyTaskStateChange(
      { task, state: outcome.state, errorMessage: outcome.error, db },
      deps.onError,
    );
  }
  return outcome.state;
}

/** The final update is retried for about half a minute: a short database outage must not leave a task Executing. */
async function withRetry<T>(deps: RunDeps, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 10) throw err;
      deps.onError(err);
      await new Promise((r) => setTimeout(r, attempt * 500));
    }
  }
}
