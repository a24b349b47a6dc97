import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialects/dialect.js';
import { createTableSql } from '../dialects/dialect.js';
import { PORTAL_TABLES_V3 } from '../schema/tables-v3.js';

/** Creates the portal's tables (schema/tables-v3.ts) with their indexes. */
export async function up(db: Kysely<unknown>, dialect: Dialect, quote: (s: string) => string): Promise<void> {
  for (const table of PORTAL_TABLES_V3) {
    await sql.raw(createTableSql(dialect, table, quote)).execute(db);
    for (const ix of table.indexes ?? []) {
      await sql
        .raw(
          `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quote(ix.name)} ON ${quote(table.name)} (${ix.columns.map(quote).join(', ')})`,
        )
        .execute(db);
    }
  }
}
