import { sql } from 'kysely';
import type { DialectIndexes } from '../dialect.js';
import { postgresCapabilities } from './postgres-capabilities.js';

const q = postgresCapabilities.quoteIdentifier;

/**
 * PostgreSQL: the secondary indexes and the primary key (named `<table>_pkey`, as CREATE TABLE
 * named it) are deferred; the builds get more maintenance_work_mem, so each sorts in memory.
 */
export const postgresIndexes: DialectIndexes = {
  primaryKeyConstraint: (table) => `${table.name}_pkey`,
  async list(db, table) {
    const r = await sql<{ t: string; name: string }>`SELECT tablename AS t, indexname AS name FROM pg_indexes
        WHERE schemaname = current_schema() ${table ? sql`AND tablename = ${table}` : sql``}`.execute(db);
    return r.rows.map((x) => ({ table: String(x.t), name: String(x.name) }));
  },
  dropIndexSql: (_table, index) => `DROP INDEX ${q(index)}`,
  async withBuildSettings(db, build) {
    await sql`SET maintenance_work_mem = '256MB'`.execute(db);
    try {
      return await build();
    } finally {
      await sql`RESET maintenance_work_mem`.execute(db);
    }
  },
};
