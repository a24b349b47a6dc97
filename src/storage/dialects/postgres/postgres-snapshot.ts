import { type Kysely, sql } from 'kysely';
import type { Database } from '../../schema/database-types.js';

/** BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY on one pooled connection. */
export function postgresSnapshot<T>(
  db: Kysely<Database>,
  read: (snapshot: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`.execute(conn);
    try {
      return await read(conn);
    } finally {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
    }
  });
}
