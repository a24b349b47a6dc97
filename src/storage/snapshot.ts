import type { Kysely } from 'kysely';
import type { Database } from './schema/database-types.js';
import type { Storage } from './storage.js';

/**
 * Runs `fn` against one consistent, read-only view of the database while the server keeps writing,
 * by the engine's means (Dialect.withSnapshot):
 *   PostgreSQL  BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY on one pooled connection
 *   MySQL       START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY (InnoDB MVCC)
 *   SQLite      a second better-sqlite3 handle (WAL mode) holding a read transaction
 * Every query `fn` makes MUST go through the handle it receives, or it leaves the snapshot.
 */
export function withSnapshot<T>(storage: Storage, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return storage.dialect.withSnapshot(storage.db, fn);
}
