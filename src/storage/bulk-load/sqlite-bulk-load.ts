import { type CanonicalValue, CodecError } from '../codecs.js';
import { openSqliteHandle } from '../dialects/sqlite-dialect.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { BatchSource, BulkLoadOptions } from './bulk-loader.js';

/** Canonical value to what better-sqlite3 binds (decodeValue's SQLite form, set up per column). */
function sqliteParam(type: LogicalType): (v: CanonicalValue) => unknown {
  switch (type) {
    case 'blob':
      return (v) => (v === null ? null : Buffer.from(String(v), 'base64'));
    case 'int64':
      return (v) => (v === null ? null : String(v));
    default:
      return (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
}

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
    const n = table.columns.length;
    const params = table.columns.map((c) => sqliteParam(c.type));
    const bound: unknown[] = new Array(n);
    let rows = 0;
    handle.exec('BEGIN IMMEDIATE');
    try {
      for await (const batch of batches) {
        let bytes = 0;
        for (const values of batch) {
          if (values.length !== n) {
            throw new CodecError(`${table.name}: a row has ${values.length} values, the table ${n} columns`);
          }
          for (let i = 0; i < n; i++) {
            const v = values[i] ?? null;
            bound[i] = params[i]!(v);
            // bytes bound, roughly: text and base64 by length, other values by 8
            bytes += typeof v === 'string' ? v.length : 8;
          }
          insert.run(bound);
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
