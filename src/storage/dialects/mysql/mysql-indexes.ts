import { sql } from 'kysely';
import type { DialectIndexes } from '../dialect.js';
import { mysqlCapabilities } from './mysql-capabilities.js';

const q = mysqlCapabilities.quoteIdentifier;

/** MySQL: the secondary indexes are deferred (InnoDB keeps rows in primary-key order: that one stays). */
export const mysqlIndexes: DialectIndexes = {
  primaryKeyConstraint: () => undefined,
  async list(db, table) {
    const r = await sql<{ t: string; name: string }>`SELECT DISTINCT table_name AS t, index_name AS name
        FROM information_schema.statistics
        WHERE table_schema = DATABASE() ${table ? sql`AND table_name = ${table}` : sql``}`.execute(db);
    return r.rows.map((x) => ({ table: String(x.t), name: String(x.name) }));
  },
  dropIndexSql: (table, index) => `ALTER TABLE ${q(table)} DROP INDEX ${q(index)}`,
  withBuildSettings: (_db, build) => build(),
};
