import { sql } from 'kysely';
import type { TableSpec } from '../schema/column-types.js';
import type { Storage } from '../storage.js';

/**
 * Index builds deferred around a bulk load into an empty table, as pg_restore does: building an
 * index once over the loaded rows (a sort) costs a fraction of maintaining it row by row, and
 * on PostgreSQL it runs on another backend while the next table loads.
 *
 *   PostgreSQL  the secondary indexes and the primary key (named `<table>_pkey`, as CREATE TABLE
 *               named it)
 *   MySQL       the secondary indexes (InnoDB keeps rows in primary-key order: that one stays)
 *   SQLite      the secondary indexes
 *
 * Both steps are idempotent, so a load killed in between heals on the next run: `dropIndexes`
 * drops what exists, `buildIndexes` creates what is missing.
 */
const quoteFor = (storage: Storage) =>
  storage.engine === 'mysql'
    ? (s: string) => `\`${s.replace(/`/g, '``')}\``
    : (s: string) => `"${s.replace(/"/g, '""')}"`;

const pkName = (table: TableSpec) => `${table.name}_pkey`;

/**
 * Tables smaller than this keep their indexes while they load: the DDL would cost more than it
 * saves. CUTTLE_DEFER_INDEXES_FROM_ROWS changes it (the tests use it to defer on small tables).
 */
export function deferIndexesFromRows(): number {
  const v = Number(process.env.CUTTLE_DEFER_INDEXES_FROM_ROWS);
  return Number.isSafeInteger(v) && v > 0 ? v : 50_000;
}

export async function dropIndexes(storage: Storage, table: TableSpec): Promise<void> {
  const q = quoteFor(storage);
  const existing = await indexNames(storage, table);
  for (const ix of table.indexes ?? []) {
    if (!existing.has(ix.name)) continue;
    const stmt =
      storage.engine === 'mysql'
        ? `ALTER TABLE ${q(table.name)} DROP INDEX ${q(ix.name)}`
        : `DROP INDEX ${q(ix.name)}`;
    await sql.raw(stmt).execute(storage.db);
  }
  if (storage.engine === 'postgres' && existing.has(pkName(table))) {
    await sql.raw(`ALTER TABLE ${q(table.name)} DROP CONSTRAINT ${q(pkName(table))}`).execute(storage.db);
  }
}

/** The indexes (and on PostgreSQL the primary key) the logical schema has and the table lacks. */
export async function missingIndexes(storage: Storage, table: TableSpec): Promise<string[]> {
  const existing = await indexNames(storage, table);
  const wanted = (table.indexes ?? []).map((ix) => ix.name);
  if (storage.engine === 'postgres') wanted.unshift(pkName(table));
  return wanted.filter((n) => !existing.has(n));
}

export async function buildIndexes(storage: Storage, table: TableSpec): Promise<void> {
  const missing = await missingIndexes(storage, table);
  if (!missing.length) return;
  const q = quoteFor(storage);
  const existing = { has: (n: string) => !missing.includes(n) };
  await storage.db.connection().execute(async (db) => {
    if (storage.engine === 'postgres') await sql`SET maintenance_work_mem = '256MB'`.execute(db);
    try {
      if (storage.engine === 'postgres' && !existing.has(pkName(table))) {
        await sql
          .raw(
            `ALTER TABLE ${q(table.name)} ADD CONSTRAINT ${q(pkName(table))} PRIMARY KEY (${table.primaryKey.map(q).join(', ')})`,
          )
          .execute(db);
      }
      for (const ix of table.indexes ?? []) {
        if (existing.has(ix.name)) continue;
        await sql
          .raw(
            `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${q(ix.name)} ON ${q(table.name)} (${ix.columns.map(q).join(', ')})`,
          )
          .execute(db);
      }
    } finally {
      if (storage.engine === 'postgres') await sql`RESET maintenance_work_mem`.execute(db);
    }
  });
}

/**
 * Builds whatever index of `tables` is missing, after one catalog query for all of them: the
 * last step of a restore or a move, which heals an earlier run that died between drop and build.
 */
export async function buildMissingIndexes(storage: Storage, tables: TableSpec[]): Promise<void> {
  const all = await indexNamesByTable(storage);
  for (const t of tables) {
    const have = all.get(t.name) ?? new Set<string>();
    const wanted = (t.indexes ?? []).map((ix) => ix.name);
    if (storage.engine === 'postgres') wanted.push(pkName(t));
    if (wanted.some((n) => !have.has(n))) await buildIndexes(storage, t);
  }
}

/** Names of the indexes (and on PostgreSQL the primary key constraint) the table has now. */
async function indexNames(storage: Storage, table: TableSpec): Promise<Set<string>> {
  return (await indexNamesByTable(storage, table.name)).get(table.name) ?? new Set();
}

async function indexNamesByTable(storage: Storage, only?: string): Promise<Map<string, Set<string>>> {
  let rows: { t: string; name: string }[];
  if (storage.engine === 'postgres') {
    rows = (
      await sql<{ t: string; name: string }>`SELECT tablename AS t, indexname AS name FROM pg_indexes
        WHERE schemaname = current_schema() ${only ? sql`AND tablename = ${only}` : sql``}`.execute(
        storage.db,
      )
    ).rows;
  } else if (storage.engine === 'mysql') {
    rows = (
      await sql<{ t: string; name: string }>`SELECT DISTINCT table_name AS t, index_name AS name
        FROM information_schema.statistics
        WHERE table_schema = DATABASE() ${only ? sql`AND table_name = ${only}` : sql``}`.execute(storage.db)
    ).rows;
  } else {
    rows = (
      await sql<{ t: string; name: string }>`SELECT tbl_name AS t, name FROM sqlite_master
        WHERE type = 'index' ${only ? sql`AND tbl_name = ${only}` : sql``}`.execute(storage.db)
    ).rows;
  }
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const t = String(r.t);
    if (!out.has(t)) out.set(t, new Set());
    out.get(t)!.add(String(r.name));
  }
  return out;
}
