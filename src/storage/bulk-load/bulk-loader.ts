import type { CanonicalValue } from '../codecs.js';
import { lineWriter } from '../row-text.js';
import type { TableSpec } from '../schema/column-types.js';
import type { Storage } from '../storage.js';
import type { BulkLoadOptions, TextSource } from './bulk-load-types.js';
import { LineBuffer } from './line-buffer.js';

export type { BulkLoadOptions, TextSource } from './bulk-load-types.js';

/**
 * Loads row text (row-text.ts: buffers of whole lines) into a table with each engine's fast path
 * (Dialect.bulkLoadText; about twice as fast as batched INSERTs on both servers, stack.md §1 and
 * docs/performance.md):
 *   PostgreSQL  COPY ... FROM STDIN in text format on a dedicated connection: the row text goes in
 *               as it is (dialects/postgres/postgres-bulk-load.ts)
 *   MySQL       LOAD DATA LOCAL INFILE from a stream (the same format, two escapes and the bool and
 *               blob columns adapted), falling back to multi-row INSERT when the server has
 *               local_infile off (dialects/mysql/mysql-bulk-load.ts)
 *   SQLite      a prepared INSERT in one transaction on a dedicated handle
 *               (dialects/sqlite/sqlite-bulk-load.ts)
 * Each call is atomic: the table gets all rows of the call or none, so a resumed copy can redo a
 * half-copied table after deleting what it holds.
 */
export async function bulkLoadText(
  storage: Storage,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions = {},
): Promise<number> {
  return storage.dialect.bulkLoadText(table, text, opts);
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
