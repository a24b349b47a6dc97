import { type Kysely, Kysely as KyselyCtor, SqliteDialect, sql } from 'kysely';
import { openSqliteHandle, wrapSqlite } from './dialects/sqlite-dialect.js';
import type { Database } from './schema/database-types.js';
import type { Storage } from './storage.js';

/**
 * Runs `fn` against one consistent, read-only view of the database while the server keeps writing:
 *   PostgreSQL  BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY on one pooled connection
 *   MySQL       START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY (InnoDB MVCC)
 *   SQLite      a second better-sqlite3 handle (WAL mode) holding a read transaction: WAL lets the
 *               server's own connection keep committing, and this handle keeps seeing the state of
 *               its first read until it ends.
 * Every query `fn` makes MUST go through the handle it receives, or it leaves the snapshot.
 */
export async function withSnapshot<T>(
  storage: Storage,
  fn: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const target = storage.target;
  if (target.engine === 'sqlite') {
    const handle = openSqliteHandle(target.file);
    const db = new KyselyCtor<Database>({
      dialect: new SqliteDialect({ database: async () => wrapSqlite(handle) as never }),
    });
    try {
      return await db.connection().execute(async (conn) => {
        await sql`BEGIN DEFERRED`.execute(conn);
        try {
          // A deferred transaction takes its snapshot at the first read, so read now.
          await sql`SELECT count(*) AS n FROM sqlite_master`.execute(conn);
          return await fn(conn);
        } finally {
          await sql`COMMIT`.execute(conn).catch(() => {});
        }
      });
    } finally {
      await db.destroy();
    }
  }
  return storage.db.connection().execute(async (conn) => {
    if (target.engine === 'postgres') {
      await sql`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`.execute(conn);
    } else {
      await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`.execute(conn);
      await sql`START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`.execute(conn);
    }
    try {
      return await fn(conn);
    } finally {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
    }
  });
}
