import { sql } from 'kysely';
import { tableSpec } from '../../src/storage/schema/tables.js';
import type { Storage } from '../../src/storage/storage.js';
import { readTable } from '../../src/storage/table-reader.js';

/**
 * Changes one text value of one row of `tableName` on the target, the way a faulty disk or a
 * trigger would, so the move tests can prove verification catches it (fault-injector.ts).
 */
export async function corruptOneRow(target: Storage, tableName: string): Promise<void> {
  const table = tableSpec(tableName);
  const col = table.columns.find(
    (c) => !table.primaryKey.includes(c.name) && (c.type === 'longtext' || c.type === 'text'),
  );
  if (!col) throw new Error(`No text column to corrupt in ${tableName}`);
  const it = readTable(target.db, table, { batchSize: 100 });
  const first = await it.next();
  await it.return(undefined);
  const rows = first.done ? [] : first.value;
  const row = rows[Math.floor(rows.length / 2)];
  if (!row) throw new Error(`${tableName} has no row to corrupt`);
  const where = sql.join(
    table.primaryKey.map((k) => {
      const i = table.columns.findIndex((c) => c.name === k);
      return sql`${sql.ref(k)} = ${row[i]}`;
    }),
    sql` AND `,
  );
  await sql`UPDATE ${sql.table(tableName)} SET ${sql.ref(col.name)} = ${'corrupted on the target'} WHERE ${where}`.execute(
    target.db,
  );
}
