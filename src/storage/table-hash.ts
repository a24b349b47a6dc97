import type { Kysely } from 'kysely';
import { RowTextHasher, splitLines } from './row-text.js';
import type { TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';
import { TABLES } from './schema/tables.js';
import { type ReadOrder, readTableText } from './table-reader.js';

export interface TableDigest {
  table: string;
  rows: number;
  bytes: number;
  /** SHA-256 over the row text in the order read (primary-key order unless asked otherwise). */
  sha256: string;
}

export interface HashOptions {
  onRows?: (n: number) => void;
  /** Rows left out of the digest (a target's own marker row), tested on each line's first field. */
  skipKey?: string;
  /** Default: key (table-reader.ts). */
  order?: ReadOrder;
}

export async function hashTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: HashOptions = {},
): Promise<TableDigest> {
  const h = new RowTextHasher();
  const skip = opts.skipKey === undefined ? undefined : `${opts.skipKey}\t`;
  for await (const piece of readTableText(db, table, { order: opts.order })) {
    const n = skip && piece.includes(skip) ? h.add(without(piece, skip)) : h.add(piece);
    opts.onRows?.(n);
  }
  return { table: table.name, rows: h.rows, bytes: h.bytes, sha256: h.digest() };
}

/**
 * Checks a table against a digest of the same rows in another order (`expected.order`: how a copy
 * streamed them, or key order for a manifest). A table that one bulk load filled reads back in
 * load order (`EngineCapabilities.loadOrderIsNatural`), so it is hashed in natural order first: a sequential scan,
 * no index, no sort. If that differs, the rows may only be in another order (a server that put
 * them elsewhere), so it is hashed again in key order and compared with `keyOrdered()`, the same
 * rows' key-order digest, computed only then. Returns the digest that decided.
 */
export async function hashTableMatching(
  db: Kysely<Database>,
  table: TableSpec,
  expected: { rows: number; sha256: string; order: ReadOrder },
  keyOrdered: () => Promise<{ rows: number; sha256: string }>,
  opts: Omit<HashOptions, 'order'> = {},
): Promise<TableDigest & { matches: boolean }> {
  const first = await hashTable(db, table, { ...opts, order: 'natural' });
  if (first.rows === expected.rows && first.sha256 === expected.sha256) return { ...first, matches: true };
  if (first.rows !== expected.rows) return { ...first, matches: false };
  const [want, got] = await Promise.all([
    expected.order === 'key' ? expected : keyOrdered(),
    hashTable(db, table, { ...opts, onRows: undefined, order: 'key' }),
  ]);
  return { ...got, matches: got.rows === want.rows && got.sha256 === want.sha256 };
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
