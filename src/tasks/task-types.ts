import type { MasterKey } from '../crypto/master-key.js';
import type { Storage } from '../storage/storage.js';

/**
 * Terminology (used in code, API and UI alike):
 *   server task   a unit of work in the queue table `server_tasks` (a deployment, a backup, ...)
 *   kind          which handler runs a task ("Deploy", "Backup"); tasks/ knows no kind itself
 *   node          one running server process of an instance (`server_nodes`)
 *   lease         a claimed task belongs to one node until `lease_until`; the node renews it by
 *                 heartbeat, and a sweeper requeues or fails tasks whose lease ran out
 *   drain         a node takes no new tasks and finishes the ones it runs
 *   activity      a node of the task's log tree (task > step > action), Octopus's ActivityLogs
 *   task log      append-only chunks in `task_log_chunks`, written while the task runs
 */
export type TaskState =
  | 'Queued'
  | 'Executing'
  | 'Success'
  | 'Failed'
  | 'Canceled'
  | 'Cancelling'
  | 'TimedOut';

const TERMINAL_STATES: readonly TaskState[] = ['Success', 'Failed', 'Canceled', 'TimedOut'];

export function isCompleted(state: string): boolean {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

export interface EnqueueInput {
  kind: string;
  spaceId: string | null;
  name: string;
  description: string;
  arguments: Record<string, unknown>;
  priority?: number;
}

export type LogCategory = 'Verbose' | 'Info' | 'Highlight' | 'Warning' | 'Error' | 'Fatal';

export type ActivityStatus =
  | 'Pending'
  | 'Running'
  | 'Success'
  | 'Failed'
  | 'Skipped'
  | 'SuccessWithWarning'
  | 'Canceled';

/** Writes a task's log while it runs; lines reach the database in chunks within about a second. */
export interface TaskLog {
  write(category: LogCategory, message: string, activityId?: string): void;
  info(message: string, activityId?: string): void;
  warn(message: string, activityId?: string): void;
  error(message: string, activityId?: string): void;
  /** Values masked in every line written after this call (sensitive variables). */
  mask(values: string[]): void;
  /** The text with every masked value replaced, as a log line would show it. */
  maskText(text: string): string;
  flush(): Promise<void>;
}

/** The activity tree of a task; persisted in `server_tasks.activity_json`. */
export interface Activities {
  start(id: string, name: string, parentId?: string): void;
  finish(id: string, status: ActivityStatus): void;
  /**
   * Writes the tree now. Awaited before an action runs anything, so that the database knows a step
   * was entered before its script starts: a task whose node dies is failed, not re-run, once it
   * did (task-lease.ts).
   */
  persist(): Promise<void>;
}

export interface TaskRecord {
  id: string;
  spaceId: string | null;
  kind: string;
  name: string;
  description: string;
  arguments: Record<string, unknown>;
  attempts: number;
}

export interface TaskContext {
  task: TaskRecord;
  /** Aborted when the task is canceled or the node is forced to stop. */
  signal: AbortSignal;
  log: TaskLog;
  activities: Activities;
  storage: Storage;
  key: MasterKey;
  /** The instance home directory (work folders, artifacts). */
  home: string;
  nodeId: string;
  /** Keep a failed step's work folder (config keepWorkFolders); otherwise each is removed when its step ends. */
  keepWorkFolders?: boolean;
}

export interface TaskOutcome {
  /** Finished, but something in it warned. */
  warnings?: boolean;
}

/** A handler runs one task to its end. Throwing fails the task; the abort signal cancels it. */
export type TaskHandler = (ctx: TaskContext) => Promise<TaskOutcome | undefined>;
