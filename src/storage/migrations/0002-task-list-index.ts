import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialects/dialect.js';

/**
 * Task lists are read newest first by every task waiter, many times a second. Ordering by
 * (length(id), id) sorted the whole space's tasks on each call (measured: SQLite's share of a
 * `GET /api/Spaces-1/tasks` was 40% of the server's CPU with 1,000 tasks); this index serves the
 * newest page straight from the index.
 */
export async function up(
  db: Kysely<unknown>,
  _dialect: Dialect,
  quote: (s: string) => string,
): Promise<void> {
  await sql
    .raw(
      `CREATE INDEX ${quote('ix_server_tasks_space_queue')} ON ${quote('server_tasks')} (${quote('space_id')}, ${quote('queue_time')})`,
    )
    .execute(db);
}
