import { type Kysely, sql } from 'kysely';
import type { Database } from '../../schema/database-types.js';

/** START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY on one pooled connection (InnoDB MVCC). */
export function mysqlSnapshot<T>(
  db: Kysely<Database>,
  read: (snapshot: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`.execute(conn);
    await sql`START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`.execute(conn);
    try {
      return await read(conn);
    } finally {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
    }
  });
}
