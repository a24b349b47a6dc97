import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ServerTarget } from '../../config/connection-string.js';
import type { CanonicalValue } from '../codecs.js';
import { pgConfig } from '../dialects/postgres-dialect.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { BatchSource, BulkLoadOptions } from './bulk-loader.js';

/**
 * CSV for COPY: every non-null field quoted (so an empty string stays distinct from NULL, which is
 * an unquoted empty field), quotes doubled, bytea as "\x<hex>", booleans t/f. Writes go out in
 * ~256 KB pieces: one write per row made COPY slower than INSERT (stack.md §1).
 */
function csvField(type: LogicalType, v: CanonicalValue): string {
  if (v === null) return '';
  switch (type) {
    case 'bool':
      return v ? 't' : 'f';
    case 'int':
    case 'bigint':
    case 'int64':
      return String(v);
    case 'blob':
      return `"\\x${Buffer.from(String(v), 'base64').toString('hex')}"`;
    default:
      return `"${String(v).replace(/"/g, '""')}"`;
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
    const types = table.columns.map((c) => c.type);
    async function* csv() {
      let buf = '';
      for await (const batch of batches) {
        let bytes = 0;
        for (const values of batch) {
          let line = '';
          for (let i = 0; i < types.length; i++) {
            if (i) line += ',';
            line += csvField(types[i]!, values[i] ?? null);
          }
          line += '\n';
          buf += line;
          bytes += line.length;
          if (buf.length >= 256 * 1024) {
            yield buf;
            buf = '';
          }
        }
        rows += batch.length;
        opts.onProgress?.(batch.length, bytes);
      }
      if (buf) yield buf;
    }
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
