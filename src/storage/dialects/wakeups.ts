import type { DialectAdapter, Kysely, Dialect as KyselyDialect } from 'kysely';
import type { ConnectionTarget } from '../../config/connection-string.js';
import type { CuttleError } from '../../lib/errors.js';
import type { Database } from '../schema/database-types.js';

/** What a listener tells its owner (tasks/task-wakeups.ts). */
export interface WakeupHandlers {
  /** A notification on the channel, with its payload. */
  notified(payload: string): void;
  /**
   * The listener listens: for the first time, or `again` after its connection dropped, in which
   * case notifications sent meanwhile were missed and the owner should look for itself.
   */
  listening(again: boolean): void;
  /**
   * The connection dropped or could not be made (`err` classified as the factory does: never the
   * connection string or its password); the next try is in `retryInMs`.
   */
  lost(err: CuttleError, retryInMs: number): void;
}

export interface WakeupListener {
  /** Stops listening and closes the listener's connection; no handler is called after it resolves. */
  close(): Promise<void>;
}

/**
 * Wake-ups between the processes that share a database (PostgreSQL's LISTEN/NOTIFY), where the
 * engine has them. Absent where it has not (MySQL/MariaDB, SQLite): nodes then poll.
 */
export interface Wakeups {
  /**
   * Notifies every listener of `channel` on this database. Through `db`, so that inside a
   * transaction the notification is sent when it commits, and not at all when it rolls back.
   */
  notify(db: Kysely<Database>, channel: string, payload: string): Promise<void>;
  /**
   * Listens to `channel` on a connection of its own (not one of a pool's), reconnecting with
   * backoff when the connection drops. Resolves after the first try, whether it listens or not
   * (`handlers` hear which); a failed try is retried, never thrown.
   */
  listen(target: ConnectionTarget, channel: string, handlers: WakeupHandlers): Promise<WakeupListener>;
}

const wakeupsOfAdapter = new WeakMap<DialectAdapter, Wakeups>();

/** `dialect` whose handles notify with `wakeups` (the adapter carries them, as with table reads). */
export function withWakeups(dialect: KyselyDialect, wakeups: Wakeups): KyselyDialect {
  return {
    createAdapter: () => {
      const adapter = dialect.createAdapter();
      wakeupsOfAdapter.set(adapter, wakeups);
      return adapter;
    },
    createDriver: () => dialect.createDriver(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/** The wake-ups of a handle (a pool, a transaction of it), or undefined where its engine has none. */
export function wakeupsOf(db: Kysely<Database>): Wakeups | undefined {
  return wakeupsOfAdapter.get(db.getExecutor().adapter);
}
