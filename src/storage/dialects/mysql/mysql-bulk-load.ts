import { Readable } from 'node:stream';
import mysql from 'mysql2';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import { CodecError, decodeRow } from '../../codecs.js';
import { countLines, lineReader, splitLines } from '../../row-text.js';
import type { TableSpec } from '../../schema/column-types.js';
import { mysqlOptions } from './mysql-options.js';

/**
 * LOAD DATA LOCAL INFILE reads row text almost as it is: its default format is TAB-separated
 * lines with backslash escapes and \N for NULL. Three things differ and are adapted here: MySQL
 * knows no \f and \v escapes (the pieces that hold one are rewritten to the raw bytes), booleans
 * arrive as t/f (`SET col = (@col = 't')`), blobs as \x<hex> (`SET col = UNHEX(SUBSTRING(@col, 3))`).
 * One statement per table in a transaction, so InnoDB applies it atomically. When the server has local_infile off
 * (MySQL 8's default) the rows go as multi-row INSERTs kept under max_allowed_packet, in one
 * transaction.
 */
const BACKSLASH = 0x5c;

/** \f and \v to the bytes they stand for; every other escape stays for LOAD DATA to read. */
export function mysqlEscapes(piece: Buffer): Buffer {
  if (piece.indexOf('\\f') < 0 && piece.indexOf('\\v') < 0) return piece;
  const out = Buffer.allocUnsafe(piece.length);
  let o = 0;
  for (let i = 0; i < piece.length; i++) {
    const b = piece[i]!;
    if (b !== BACKSLASH || i + 1 >= piece.length) {
      out[o++] = b;
      continue;
    }
    const c = piece[++i]!;
    if (c === 0x66) out[o++] = 0x0c;
    else if (c === 0x76) out[o++] = 0x0b;
    else {
      out[o++] = BACKSLASH;
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

function q(
  c: mysql.Connection,
  text: string,
  values?: unknown,
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  return new Promise((res, rej) =>
    c.query({ sql: text, values, ...extra } as mysql.QueryOptions, (e, r) => (e ? rej(e) : res(r))),
  );
}

export async function mysqlBulkLoad(
  target: ServerTarget,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions,
): Promise<number> {
  const conn = mysql.createConnection({ ...mysqlOptions(target) });
  conn.on('error', () => {});
  await new Promise<void>((res, rej) => conn.connect((e) => (e ? rej(e) : res())));
  try {
    const r = (await q(conn, 'SELECT @@GLOBAL.local_infile AS li')) as { li: number | string }[];
    const localInfile = Number(r[0]?.li) === 1;
    return localInfile
      ? await loadData(conn, table, text, opts)
      : await insertBatches(conn, table, text, opts);
  } finally {
    conn.destroy();
  }
}

async function loadData(
  conn: mysql.Connection,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions,
): Promise<number> {
  let rows = 0;
  async function* adapted(): AsyncGenerator<Buffer> {
    for await (const piece of text) {
      const n = countLines(piece);
      rows += n;
      yield mysqlEscapes(piece);
      opts.onProgress?.(n, piece.length);
    }
  }
  const viaVariable = (type: string) => type === 'blob' || type === 'bool';
  const targets = table.columns.map((c) => (viaVariable(c.type) ? `@${c.name}` : `\`${c.name}\``)).join(', ');
  const sets = table.columns
    .filter((c) => viaVariable(c.type))
    .map((c) =>
      c.type === 'blob'
        ? `\`${c.name}\` = UNHEX(SUBSTRING(@${c.name}, 3))`
        : `\`${c.name}\` = (@${c.name} = 't')`,
    );
  const stmt =
    `LOAD DATA LOCAL INFILE 'cuttle-stream' INTO TABLE \`${table.name}\` CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '');
  // With LOCAL the server cannot stop the client's stream, so it turns duplicate keys and values
  // that do not fit into warnings and skips or truncates the row. In a transaction, any warning
  // rolls the whole table back and is reported: a loader never drops a row quietly.
  await q(conn, 'START TRANSACTION');
  try {
    const r = (await q(conn, stmt, undefined, {
      infileStreamFactory: () => Readable.from(adapted()),
    })) as { affectedRows?: number; warningStatus?: number };
    if ((r.warningStatus ?? 0) > 0 || (r.affectedRows ?? rows) !== rows) {
      const warnings = (await q(conn, 'SHOW WARNINGS LIMIT 3')) as { Message?: string }[];
      throw new CodecError(
        `${table.name}: MySQL took ${r.affectedRows ?? '?'} of ${rows} rows with ${r.warningStatus ?? 0} warning(s)` +
          (warnings.length ? `: ${warnings.map((w) => w.Message).join('; ')}` : ''),
      );
    }
    await q(conn, 'COMMIT');
  } catch (err) {
    await q(conn, 'ROLLBACK').catch(() => {});
    throw err;
  }
  return rows;
}

async function insertBatches(
  conn: mysql.Connection,
  table: TableSpec,
  text: TextSource,
  opts: BulkLoadOptions,
): Promise<number> {
  let rows = 0;
  const cols = table.columns.map((c) => `\`${c.name}\``).join(', ');
  await q(conn, 'START TRANSACTION');
  try {
    const read = lineReader(table);
    for await (const piece of text) {
      const batch = splitLines(piece).map(read);
      for (let i = 0; i < batch.length; i += 500) {
        const part = batch.slice(i, i + 500).map((values) => {
          const row = decodeRow(table, values);
          return table.columns.map((c) => row[c.name]);
        });
        await q(conn, `INSERT INTO \`${table.name}\` (${cols}) VALUES ?`, [part]);
      }
      rows += batch.length;
      opts.onProgress?.(batch.length, piece.length);
    }
    await q(conn, 'COMMIT');
    return rows;
  } catch (err) {
    await q(conn, 'ROLLBACK').catch(() => {});
    throw err;
  }
}
