import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialects/dialect.js';
import { createTableSql } from '../dialects/dialect.js';
import { TABLES_V1 } from '../schema/tables-v1.js';

/** Frozen copy of the id collections this migration seeds; a new collection gets its own migration. */
const COLLECTIONS_V1 = [
  '$change',
  'Users',
  'ApiKeys',
  'Spaces',
  'ProjectGroups',
  'Lifecycles',
  'Environments',
  'Projects',
  'Channels',
  'Variables',
  'Releases',
  'Deployments',
  'ServerTasks',
  'Artifacts',
  'Events',
];

/** Creates every table of TABLES_V1 with its indexes, and the id allocator's rows. */
export async function up(db: Kysely<unknown>, dialect: Dialect, quote: (s: string) => string): Promise<void> {
  for (const table of TABLES_V1) {
    await sql.raw(createTableSql(dialect, table, quote)).execute(db);
    for (const ix of table.indexes ?? []) {
      await sql
        .raw(
          `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quote(ix.name)} ON ${quote(table.name)} (${ix.columns.map(quote).join(', ')})`,
        )
        .execute(db);
    }
  }
  for (const name of COLLECTIONS_V1) {
    await sql`INSERT INTO ${sql.table('key_allocations')} (collection_name, next_id) VALUES (${name}, 1)`.execute(
      db,
    );
  }
}
