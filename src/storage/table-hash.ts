import type { Kysely } from 'kysely';
import { RowTextHasher, splitLines } from './row-text.js';
import type { TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';
import { TABLES } from './schema/tables.js';
import { readTableText } from './table-reader.js';

export interface TableDigest {
  table: string;
  rows: number;
  bytes: number;
  /** SHA-256 over the row text in primary-key order (row-text.ts). */
  sha256: string;
}

export interface HashOptions {
  onRows?: (n: number) => void;
  /** Rows left out of the digest (a target's own marker row), tested on each line's first field. */
  skipKey?: string;
}

export async function hashTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: HashOptions = {},
): Promise<TableDigest> {
  const h = new RowTextHasher();
  const skip = opts.skipKey === undefined ? undefined : `${opts.skipKey}\t`;
  for await (const piece of readTableText(db, table)) {
    const n = skip && piece.includes(skip) ? h.add(without(piece, skip)) : h.add(piece);
    opts.onRows?.(n);
  }
  return { table: table.name, rows: h.rows, bytes: h.bytes, sha256: h.digest() };
}

/** The piece without the lines that start with `prefix`. */
function without(piece: Buffer, prefix: string): Buffer {
  const kept = splitLines(piece).filter((l) => !l.startsWith(prefix));
  return Buffer.from(kept.map((l) => `${l}\n`).join(''), 'utf8');
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
