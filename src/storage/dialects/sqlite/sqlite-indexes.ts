import { sql } from 'kysely';
import type { DialectIndexes } from '../dialect.js';
import { sqliteCapabilities } from './sqlite-capabilities.js';

const q = sqliteCapabilities.quoteIdentifier;

/** SQLite: the secondary indexes are deferred; a primary key cannot be dropped. */
export const sqliteIndexes: DialectIndexes = {
  primaryKeyConstraint: () => undefined,
  async list(db, table) {
    const r = await sql<{ t: string; name: string }>`SELECT tbl_name AS t, name FROM sqlite_master
        WHERE type = 'index' ${table ? sql`AND tbl_name = ${table}` : sql``}`.execute(db);
    return r.rows.map((x) => ({ table: String(x.t), name: String(x.name) }));
  },
  dropIndexSql: (_table, index) => `DROP INDEX ${q(index)}`,
  withBuildSettings: (_db, build) => build(),
};
