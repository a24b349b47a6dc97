import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import { countLines } from '../../row-text.js';
import type { TableSpec } from '../../schema/column-types.js';
import { pgConfig } from './postgres-config.js';

/**
 * COPY ... FROM STDIN in text format: row text is that format, so the pieces go to the server as
 * they come (~256 KB each: one write per row made COPY slower than INSERT, stack.md §1).
 */
export async function postgresBulkLoad(
  target: ServerTarget,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions,
): Promise<number> {
  const client = new pg.Client(pgConfig(target));
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    // TRUNCATE in the same transaction: COPY then appends page after page without consulting the
    // free space map (which puts rows that fit into earlier pages, out of load order) and FREEZE
    // is allowed (see BulkLoadOptions.replace)
    if (opts.replace) await client.query(`TRUNCATE "${table.name}"`);
    const cols = table.columns.map((c) => `"${c.name}"`).join(', ');
    const stream = client.query(
      copyFrom(`COPY "${table.name}" (${cols}) FROM STDIN${opts.replace ? ' (FREEZE)' : ''}`),
    );
    const onProgress = opts.onProgress;
    // lines are counted only for a caller that wants progress and does not count them itself:
    // the row count returned is the server's own ("COPY n")
    async function* counted(report: NonNullable<typeof onProgress>): AsyncGenerator<Buffer> {
      for await (const piece of text) {
        yield piece;
        report(countLines(piece), piece.length);
      }
    }
    await pipeline(Readable.from(onProgress ? counted(onProgress) : text), stream);
    await client.query('COMMIT');
    return stream.rowCount;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
