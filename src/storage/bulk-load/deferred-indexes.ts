import { sql } from 'kysely';
import type { TableSpec } from '../schema/column-types.js';
import type { Storage } from '../storage.js';

/**
 * Index builds deferred around a bulk load into an empty table, as pg_restore does: building an
 * index once over the loaded rows (a sort) costs a fraction of maintaining it row by row, and
 * on PostgreSQL it runs on another backend while the next table loads. Each engine says what it
 * defers (Dialect.indexes):
 *
 *   PostgreSQL  the secondary indexes and the primary key (named `<table>_pkey`, as CREATE TABLE
 *               named it)
 *   MySQL       the secondary indexes (InnoDB keeps rows in primary-key order: that one stays)
 *   SQLite      the secondary indexes
 *
 * Both steps are idempotent, so a load killed in between heals on the next run: `dropIndexes`
 * drops what exists, `buildIndexes` creates what is missing.
 */

/**
 * Tables smaller than this keep their indexes while they load: the DDL would cost more than it
 * saves. CUTTLE_DEFER_INDEXES_FROM_ROWS changes it (the tests use it to defer on small tables).
 */
export function deferIndexesFromRows(): number {
  const v = Number(process.env.CUTTLE_DEFER_INDEXES_FROM_ROWS);
  return Number.isSafeInteger(v) && v > 0 ? v : 50_000;
}

export async function dropIndexes(storage: Storage, table: TableSpec): Promise<void> {
  const q = storage.capabilities.quoteIdentifier;
  const indexes = storage.dialect.indexes;
  const existing = await indexNames(storage, table);
  for (const ix of table.indexes ?? []) {
    if (!existing.has(ix.name)) continue;
    await sql.raw(indexes.dropIndexSql(table.name, ix.name)).execute(storage.db);
  }
  const pk = indexes.primaryKeyConstraint(table);
  if (pk !== undefined && existing.has(pk)) {
    await sql.raw(`ALTER TABLE ${q(table.name)} DROP CONSTRAINT ${q(pk)}`).execute(storage.db);
  }
}

/** The indexes the logical schema has and the table lacks (with the primary key, where it is deferred). */
export async function missingIndexes(storage: Storage, table: TableSpec): Promise<string[]> {
  const existing = await indexNames(storage, table);
  return wantedIndexes(storage, table).filter((n) => !existing.has(n));
}

export async function buildIndexes(storage: Storage, table: TableSpec): Promise<void> {
  const missing = await missingIndexes(storage, table);
  if (!missing.length) return;
  const q = storage.capabilities.quoteIdentifier;
  const indexes = storage.dialect.indexes;
  const pk = indexes.primaryKeyConstraint(table);
  await storage.db.connection().execute((db) =>
    indexes.withBuildSettings(db, async () => {
      if (pk !== undefined && missing.includes(pk)) {
        await sql
          .raw(
            `ALTER TABLE ${q(table.name)} ADD CONSTRAINT ${q(pk)} PRIMARY KEY (${table.primaryKey.map(q).join(', ')})`,
          )
          .execute(db);
      }
      for (const ix of table.indexes ?? []) {
        if (!missing.includes(ix.name)) continue;
        await sql
          .raw(
            `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${q(ix.name)} ON ${q(table.name)} (${ix.columns.map(q).join(', ')})`,
          )
          .execute(db);
      }
    }),
  );
}

/**
 * Builds whatever index of `tables` is missing, after one catalog query for all of them: the
 * last step of a restore or a move, which heals an earlier run that died between drop and build.
 */
export async function buildMissingIndexes(storage: Storage, tables: TableSpec[]): Promise<void> {
  const all = await indexNamesByTable(storage);
  for (const t of tables) {
    const have = all.get(t.name) ?? new Set<string>();
    if (wantedIndexes(storage, t).some((n) => !have.has(n))) await buildIndexes(storage, t);
  }
}

/** The primary key first where the engine defers it (Dialect.indexes.primaryKeyConstraint), then the secondary indexes. */
function wantedIndexes(storage: Storage, table: TableSpec): string[] {
  const wanted = (table.indexes ?? []).map((ix) => ix.name);
  const pk = storage.dialect.indexes.primaryKeyConstraint(table);
  if (pk !== undefined) wanted.unshift(pk);
  return wanted;
}

/** Names of the indexes (and where deferred the primary key constraint) the table has now. */
async function indexNames(storage: Storage, table: TableSpec): Promise<Set<string>> {
  return (await indexNamesByTable(storage, table.name)).get(table.name) ?? new Set();
}

async function indexNamesByTable(storage: Storage, only?: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const r of await storage.dialect.indexes.list(storage.db, only)) {
    if (!out.has(r.table)) out.set(r.table, new Set());
    out.get(r.table)!.add(r.name);
  }
  return out;
}
