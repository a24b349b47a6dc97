import type { Kysely } from 'kysely';
import { RuntimeFailure } from '../lib/errors.js';
import { TypedEmitter } from '../lib/typed-emitter.js';
import { type WakeupListener, wakeupsOf } from '../storage/dialects/wakeups.js';
import type { Database } from '../storage/schema/database-types.js';
import type { Storage } from '../storage/storage.js';

/**
 * Wake-ups between the nodes of a cluster, through the database where its engine can
 * (PostgreSQL's LISTEN/NOTIFY, dialects/wakeups.ts): a task queued on one node, or a cancel
 * requested there, reaches every node's executor at once instead of at its next poll. Where the
 * engine cannot (MySQL/MariaDB; SQLite has one node), nothing is sent and the executors poll.
 * Polling stays on either way: a notification sent while a listener was reconnecting is lost.
 */
export const TASKS_CHANNEL = 'cuttle_tasks';
const QUEUED = 'queued';
const CANCEL = 'cancel:';

/**
 * Tells every node that a task was queued. Inside a transaction it is sent when the transaction
 * commits, with the task visible by then. Outside one the task is committed already, so a failed
 * notification is dropped rather than thrown: the enqueue succeeded, and the poll finds the task.
 */
export function notifyTaskQueued(db: Kysely<Database>): Promise<void> {
  return notify(db, QUEUED);
}

/** Tells every node that `taskId` is to be canceled (its node aborts it at once); as notifyTaskQueued. */
export function notifyCancelRequested(db: Kysely<Database>, taskId: string): Promise<void> {
  return notify(db, `${CANCEL}${taskId}`);
}

async function notify(db: Kysely<Database>, payload: string): Promise<void> {
  const wakeups = wakeupsOf(db);
  if (!wakeups) return;
  if (db.isTransaction) return wakeups.notify(db, TASKS_CHANNEL, payload);
  await wakeups.notify(db, TASKS_CHANNEL, payload).catch(() => {});
}

/** What a node's wake-ups tell their watchers (tests, and the figures of bench/queue-to-start.ts). */
export interface WakeupEvents {
  /** The node listens for other nodes' wake-ups: first, or `again` after its connection dropped. */
  listening: { again: boolean };
  /** The listener's connection dropped or could not be made; the node polls until the retry listens. */
  lost: { retryInMs: number };
  /** Another node (or this one) queued a task, or asked for `taskId` to be canceled. */
  notified: { what: 'queued' } | { what: 'cancel'; taskId: string };
}

/** What the wake-ups wake: the executor's claim round and its abort. */
export interface WakeupTarget {
  wake(): void;
  cancel(taskId: string): void;
  onError(err: unknown): void;
}

/**
 * One node's listener (one dedicated connection where the engine has one, none elsewhere). It
 * wakes its executor on every notification, and once each time it listens again after a drop,
 * because what was sent meanwhile is lost. A drop is reported to `onError` once, until the
 * listener listens again: the node keeps working by polling, so it is not worth a line per retry.
 */
export class TaskWakeups {
  readonly events = new TypedEmitter<WakeupEvents>();
  private listener: Promise<WakeupListener | undefined> | undefined;

  constructor(private readonly storage: Storage) {}

  /** Whether the storage's engine carries wake-ups between processes at all (else only polling). */
  get acrossProcesses(): boolean {
    return wakeupsOf(this.storage.db) !== undefined;
  }

  /** Starts listening; resolves after the first try to, whatever it gave (a failure is retried). */
  async start(to: WakeupTarget): Promise<void> {
    if (this.listener) return;
    const wakeups = wakeupsOf(this.storage.db);
    if (!wakeups) {
      this.listener = Promise.resolve(undefined);
      return;
    }
    const where = this.storage.description;
    let reported = false;
    this.listener = wakeups.listen(this.storage.target, TASKS_CHANNEL, {
      notified: (payload) => {
        if (payload.startsWith(CANCEL)) {
          const taskId = payload.slice(CANCEL.length);
          this.events.emit('notified', { what: 'cancel', taskId });
          to.cancel(taskId);
        } else {
          this.events.emit('notified', { what: 'queued' });
          to.wake();
        }
      },
      listening: (again) => {
        reported = false;
        this.events.emit('listening', { again });
        if (again) to.wake();
      },
      lost: (err, retryInMs) => {
        this.events.emit('lost', { retryInMs });
        if (reported) return;
        reported = true;
        to.onError(
          new RuntimeFailure(
            `Task wake-ups from other nodes stopped: ${err.message} This node polls for tasks until it listens on ${where} again (retrying).`,
            { code: 'TASK_WAKEUPS_LOST', hints: err.hints },
          ),
        );
      },
    });
    await this.listener;
  }

  /** Stops listening and closes the listener's connection. */
  async stop(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    await (await listener)?.close();
  }
}
