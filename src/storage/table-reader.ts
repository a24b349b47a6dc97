import { type Kysely, sql } from 'kysely';
import { type CanonicalValue, encodeRow } from './codecs.js';
import type { TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';

/**
 * Streams a table in primary-key order with keyset pagination (`WHERE (pk) > (last) ORDER BY pk
 * LIMIT n`). Unlike OFFSET it costs the same on the last page as on the first, it needs no
 * server-side cursor (so it works inside any transaction on every engine), and a reader can resume
 * after any key. Key columns sort bytewise on every engine (see the dialects), so the order, and
 * with it the content hash, is the same everywhere.
 */
export async function* readTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: { batchSize?: number; after?: CanonicalValue[] } = {},
): AsyncGenerator<CanonicalValue[][]> {
  const batch = opts.batchSize ?? 2000;
  const pk = table.primaryKey;
  const pkIndex = pk.map((k) => table.columns.findIndex((c) => c.name === k));
  let after: unknown[] | undefined = opts.after;
  const cols = sql.join(table.columns.map((c) => sql.ref(c.name)));
  const order = sql.join(pk.map((k) => sql`${sql.ref(k)} ASC`));
  const pkRefs = pk.length === 1 ? sql.ref(pk[0]!) : sql`(${sql.join(pk.map((k) => sql.ref(k)))})`;
  for (;;) {
    const where = after
      ? sql`WHERE ${pkRefs} > ${pk.length === 1 ? sql`${after[0]}` : sql`(${sql.join(after.map((v) => sql`${v}`))})`}`
      : sql``;
    const r = await sql<
      Record<string, unknown>
    >`SELECT ${cols} FROM ${sql.table(table.name)} ${where} ORDER BY ${order} LIMIT ${sql.lit(batch)}`.execute(
      db,
    );
    if (r.rows.length === 0) return;
    const rows = r.rows.map((row) => encodeRow(table, row));
    yield rows;
    if (r.rows.length < batch) return;
    const last = rows[rows.length - 1]!;
    after = pkIndex.map((i) => last[i]);
  }
}
