import { Kysely, sql } from 'kysely';
import type { Database } from '../../schema/database-types.js';
import { openSqliteHandle, sqliteKyselyDialect } from './sqlite-driver.js';

/**
 * A second better-sqlite3 handle (WAL mode) holding a read transaction: WAL lets the server's own
 * connection keep committing, and this handle keeps seeing the state of its first read until it
 * ends.
 */
export async function sqliteSnapshot<T>(
  file: string,
  read: (snapshot: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const handle = openSqliteHandle(file);
  const db = new Kysely<Database>({ dialect: sqliteKyselyDialect(() => handle) });
  try {
    return await db.connection().execute(async (conn) => {
      await sql`BEGIN DEFERRED`.execute(conn);
      try {
        // A deferred transaction takes its snapshot at the first read, so read now.
        await sql`SELECT count(*) AS n FROM sqlite_master`.execute(conn);
        return await read(conn);
      } finally {
        await sql`COMMIT`.execute(conn).catch(() => {});
      }
    });
  } finally {
    await db.destroy();
  }
}
