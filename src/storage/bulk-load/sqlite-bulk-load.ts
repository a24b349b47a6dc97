import { decodeRow } from '../codecs.js';
import { openSqliteHandle } from '../dialects/sqlite-dialect.js';
import type { TableSpec } from '../schema/column-types.js';
import type { BatchSource, BulkLoadOptions } from './bulk-loader.js';

export async function sqliteBulkLoad(
  file: string,
  table: TableSpec,
  batches: BatchSource,
  opts: BulkLoadOptions,
): Promise<number> {
  const handle = openSqliteHandle(file);
  try {
    const cols = table.columns.map((c) => `"${c.name}"`).join(', ');
    const insert = handle.prepare(
      `INSERT INTO "${table.name}" (${cols}) VALUES (${table.columns.map(() => '?').join(', ')})`,
    );
    const toParams = (values: unknown[]) =>
      table.columns.map((c) => {
        const v = values[table.columns.indexOf(c)];
        return typeof v === 'boolean' ? (v ? 1 : 0) : v;
      });
    let rows = 0;
    handle.exec('BEGIN IMMEDIATE');
    try {
      for await (const batch of batches) {
        let bytes = 0;
        for (const values of batch) {
          const row = decodeRow(table, values);
          insert.run(toParams(table.columns.map((c) => row[c.name])));
          bytes += JSON.stringify(values).length;
        }
        rows += batch.length;
        opts.onProgress?.(batch.length, bytes);
      }
      handle.exec('COMMIT');
    } catch (err) {
      handle.exec('ROLLBACK');
      throw err;
    }
    return rows;
  } finally {
    handle.close();
  }
}
