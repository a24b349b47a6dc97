import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import type { CanonicalValue } from '../../codecs.js';
import { lineReader, splitLines } from '../../row-text.js';
import type { LogicalType, TableSpec } from '../../schema/column-types.js';
import { openSqliteHandle } from './sqlite-driver.js';

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
  text: TextSource,
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
      const read = lineReader(table);
      for await (const piece of text) {
        const lines = splitLines(piece);
        for (const line of lines) {
          const values = read(line);
          for (let i = 0; i < n; i++) bound[i] = params[i]!(values[i] ?? null);
          insert.run(bound);
        }
        rows += lines.length;
        opts.onProgress?.(lines.length, piece.length);
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
