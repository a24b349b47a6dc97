import type { CanonicalValue } from '../codecs.js';
import { lineWriter } from '../row-text.js';
import type { TableSpec } from '../schema/column-types.js';
import type { Storage } from '../storage.js';
import { LineBuffer } from './line-buffer.js';
import { mysqlBulkLoad } from './mysql-bulk-load.js';
import { postgresBulkLoad } from './postgres-bulk-load.js';
import { sqliteBulkLoad } from './sqlite-bulk-load.js';

/**
 * Loads row text (row-text.ts: buffers of whole lines) into a table with each engine's fast path
 * (measured in stack.md §1, 200k rows: COPY 1.17 s vs batched INSERT 2.57 s on PostgreSQL; LOAD
 * DATA 1.12 s vs 2.72 s on MariaDB):
 *   PostgreSQL  COPY ... FROM STDIN in text format on a dedicated connection: the row text goes in
 *               as it is
 *   MySQL       LOAD DATA LOCAL INFILE from a stream (the same format, two escapes and the bool and
 *               blob columns adapted), falling back to multi-row INSERT when the server has
 *               local_infile off
 *   SQLite      a prepared INSERT in one transaction on a dedicated handle
 * Each call is atomic: the table gets all rows of the call or none, so a resumed copy can redo a
 * half-copied table after deleting what it holds.
 */
export interface BulkLoadOptions {
  /**
   * Called after each piece reaches the engine, with its rows and bytes. A caller that counts the
   * rows of its pieces anyway reports progress itself and leaves this out: the PostgreSQL loader
   * then does not scan the pieces for line ends (it returns the server's count).
   */
  onProgress?: (rows: number, bytes: number) => void;
  /**
   * The table holds nothing that must stay (the caller would empty it anyway). PostgreSQL then
   * empties it with TRUNCATE in the load's own transaction, which lets COPY skip the free space
   * map and freeze the rows: the rows land in load order, so a natural-order read gives them back
   * in that order (table-reader.ts), and they are all-visible, so that read checks no tuple's
   * visibility. Other engines ignore it (their callers empty the table).
   */
  replace?: boolean;
}

export type TextSource = AsyncIterable<Buffer>;

export async function bulkLoadText(
  storage: Storage,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions = {},
): Promise<number> {
  switch (storage.target.engine) {
    case 'postgres':
      return postgresBulkLoad(storage.target, table, text, opts);
    case 'mysql':
      return mysqlBulkLoad(storage.target, table, text, opts);
    case 'sqlite':
      return sqliteBulkLoad(storage.target.file, table, text, opts);
  }
}

/** Canonical rows in batches to row text pieces of ~256 KB. */
export async function* rowTextOf(
  table: TableSpec,
  batches: AsyncIterable<CanonicalValue[][]>,
): AsyncGenerator<Buffer> {
  const write = lineWriter(table);
  const out = new LineBuffer();
  for await (const batch of batches) {
    for (const values of batch) {
      const full = out.push(write(values));
      if (full) yield full;
    }
  }
  const last = out.take();
  if (last) yield last;
}

/** `bulkLoadText` for canonical rows (generators, fixtures, old archives). */
export function bulkLoad(
  storage: Storage,
  table: TableSpec,
  batches: AsyncIterable<CanonicalValue[][]>,
  opts: BulkLoadOptions = {},
): Promise<number> {
  return bulkLoadText(storage, table, rowTextOf(table, batches), opts);
}
