import type { AbortCause } from './task-runner.js';
import type { TaskState } from './task-types.js';

/**
 * What a task executor tells its watchers (tests, a node's status, later a cluster view or a
 * portal). Payloads name tasks by id and kind and carry counts and states only: never a task's
 * arguments, log lines or error messages, which may hold what a script printed.
 */
export interface ExecutorEvents {
  /**
   * One round of the claim loop ended (a poll, an in-process wake, a freed slot, a sweep):
   * `claimed` tasks were taken, or the round took none because the node drains or has no free
   * slot (`skipped`). A round that ends after a change proves the executor has had its chance
   * to act on it. A round whose claim failed goes to `onError` and emits nothing.
   */
  polled: { nodeId: string; claimed: number; skipped?: 'draining' | 'full' };
  /** A claim took these tasks (leased to this node); each is `launched` next. */
  claimed: { nodeId: string; taskIds: string[] };
  /** A task started running here; `running` counts it. */
  launched: { nodeId: string; taskId: string; kind: string; attempt: number; running: number };
  /** A running task was told to stop (its state follows in `finished`). */
  aborted: { nodeId: string; taskId: string; cause: AbortCause };
  /** A task ended here and its end is recorded; `running` no longer counts it. */
  finished: { nodeId: string; taskId: string; kind: string; state?: TaskState; running: number };
  /** A drain completed: nothing claimed is left running here. */
  drained: { nodeId: string };
  /** The executor stopped: no timers, no listeners. */
  stopped: { nodeId: string };
}
