import { type Kysely, sql } from 'kysely';
import type { Database } from './schema/database-types.js';

export async function countRows(db: Kysely<Database>, table: string): Promise<number> {
  const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
