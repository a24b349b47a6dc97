import type { Kysely } from 'kysely';
import { rowLine, TableHasher } from './codecs.js';
import type { TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';
import { TABLES } from './schema/tables.js';
import { readTable } from './table-reader.js';

export interface TableDigest {
  table: string;
  rows: number;
  bytes: number;
  /** SHA-256 over the canonical lines in primary-key order (codecs.ts). */
  sha256: string;
}

export async function hashTable(
  db: Kysely<Database>,
  table: TableSpec,
  onRows?: (n: number) => void,
): Promise<TableDigest> {
  const h = new TableHasher();
  for await (const batch of readTable(db, table)) {
    for (const r of batch) h.addLine(rowLine(r));
    onRows?.(batch.length);
  }
  return { table: table.name, rows: h.rows, bytes: h.bytes, sha256: h.digest() };
}

/** Digests of every Cuttle table, in copy order. */
export async function hashAllTables(
  db: Kysely<Database>,
  tables: TableSpec[] = TABLES,
): Promise<TableDigest[]> {
  const out: TableDigest[] = [];
  for (const t of tables) out.push(await hashTable(db, t));
  return out;
}
