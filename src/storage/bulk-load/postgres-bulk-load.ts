import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ServerTarget } from '../../config/connection-string.js';
import type { CanonicalValue } from '../codecs.js';
import { pgConfig } from '../dialects/postgres-dialect.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { BatchSource, BulkLoadOptions } from './bulk-loader.js';
import { delimitedLines } from './line-buffer.js';

/**
 * CSV for COPY: every non-null field quoted (so an empty string stays distinct from NULL, which is
 * an unquoted empty field), quotes doubled, bytea as "\x<hex>", booleans t/f. Writes go out in
 * ~256 KB pieces: one write per row made COPY slower than INSERT (stack.md §1).
 */
function csvField(type: LogicalType): (v: CanonicalValue) => string {
  switch (type) {
    case 'bool':
      return (v) => (v === null ? '' : v ? 't' : 'f');
    case 'int':
    case 'bigint':
    case 'int64':
      return (v) => (v === null ? '' : String(v));
    case 'blob':
      return (v) => (v === null ? '' : `"\\x${Buffer.from(String(v), 'base64').toString('hex')}"`);
    default:
      return (v) => {
        if (v === null) return '';
        const s = String(v);
        return s.indexOf('"') < 0 ? `"${s}"` : `"${s.replace(/"/g, '""')}"`;
      };
  }
}

export async function postgresBulkLoad(
  target: ServerTarget,
  table: TableSpec,
  batches: BatchSource,
  opts: BulkLoadOptions,
): Promise<number> {
  const client = new pg.Client(pgConfig(target));
  client.on('error', () => {});
  await client.connect();
  let rows = 0;
  try {
    await client.query('BEGIN');
    const cols = table.columns.map((c) => `"${c.name}"`).join(', ');
    const stream = client.query(copyFrom(`COPY "${table.name}" (${cols}) FROM STDIN (FORMAT csv)`));
    const fields = table.columns.map((c) => csvField(c.type));
    const csv = () =>
      delimitedLines(batches, fields, ',', (n, bytes) => {
        rows += n;
        opts.onProgress?.(n, bytes);
      });
    await pipeline(Readable.from(csv()), stream);
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
