import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema/database-types.js';
import type { TaskHandler, TaskRecord, TaskState } from './task-types.js';

/**
 * tasks/ knows no task kind: core/ and admin/ register a handler per kind at start-up
 * (`registerCoreHandlers()`), and listeners that turn task transitions into audit events.
 * Both registries are process-wide, like Fastify's decorators: one node process, one set.
 */
const handlers = new Map<string, TaskHandler>();

export function registerTaskHandler(kind: string, handler: TaskHandler): void {
  handlers.set(kind, handler);
}

export function getTaskHandler(kind: string): TaskHandler | undefined {
  return handlers.get(kind);
}

export interface TaskStateChange {
  task: TaskRecord;
  /** The state the task has just entered. */
  state: TaskState;
  /** The task's error message when it ended Failed/TimedOut/Canceled. */
  errorMessage?: string | null;
  /** Where to write (e.g. `writeEvent(db, ...)`); the change itself is already committed. */
  db: Kysely<Database>;
}

export type TaskStateListener = (change: TaskStateChange) => Promise<void> | void;

const listeners = new Set<TaskStateListener>();

/** Called after every committed transition: Executing, and each terminal state. Returns an unsubscribe. */
export function onTaskStateChange(listener: TaskStateListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * A failing listener MUST NOT change the task's outcome: the transition is already committed,
 * so its error is reported to `onError` and the remaining listeners still run.
 */
export async function notifyTaskStateChange(
  change: TaskStateChange,
  onError: (err: unknown) => void = (err) =>
    process.stderr.write(`Task state listener failed: ${String(err)}\n`),
): Promise<void> {
  for (const l of listeners) {
    try {
      await l(change);
    } catch (err) {
      onError(err);
    }
  }
}
