import { Readable } from 'node:stream';
import mysql from 'mysql2';
import type { ServerTarget } from '../../config/connection-string.js';
import type { CanonicalValue } from '../codecs.js';
import { decodeRow } from '../codecs.js';
import { mysqlOptions } from '../dialects/mysql-dialect.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { BatchSource, BulkLoadOptions } from './bulk-loader.js';
import { delimitedLines } from './line-buffer.js';

/**
 * LOAD DATA LOCAL INFILE with TSV: backslash escapes for \\ \t \n \r and NUL, \N for NULL, blobs as
 * hex through `SET col = UNHEX(@col)` so the stream stays valid UTF-8. One statement per table, so
 * InnoDB applies it atomically. When the server has local_infile off (MySQL 8's default) the rows go
 * as multi-row INSERTs kept under max_allowed_packet, in one transaction.
 */
const TSV_SPECIAL = /[\\\t\n\r\0]/;

function tsvField(type: LogicalType): (v: CanonicalValue) => string {
  switch (type) {
    case 'bool':
      return (v) => (v === null ? '\\N' : v ? '1' : '0');
    case 'int':
    case 'bigint':
    case 'int64':
      return (v) => (v === null ? '\\N' : String(v));
    case 'blob':
      return (v) => (v === null ? '\\N' : Buffer.from(String(v), 'base64').toString('hex'));
    default:
      return (v) => {
        if (v === null) return '\\N';
        const s = String(v);
        if (!TSV_SPECIAL.test(s)) return s;
        return s.replace(/[\\\t\n\r\0]/g, (c) =>
          c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\0',
        );
      };
  }
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
  batches: BatchSource,
  opts: BulkLoadOptions,
): Promise<number> {
  const conn = mysql.createConnection({ ...mysqlOptions(target) });
  conn.on('error', () => {});
  await new Promise<void>((res, rej) => conn.connect((e) => (e ? rej(e) : res())));
  try {
    const r = (await q(conn, 'SELECT @@GLOBAL.local_infile AS li')) as { li: number | string }[];
    const localInfile = Number(r[0]?.li) === 1;
    return localInfile
      ? await loadData(conn, table, batches, opts)
      : await insertBatches(conn, table, batches, opts);
  } finally {
    conn.destroy();
  }
}

async function loadData(
  conn: mysql.Connection,
  table: TableSpec,
  batches: BatchSource,
  opts: BulkLoadOptions,
): Promise<number> {
  let rows = 0;
  const fields = table.columns.map((c) => tsvField(c.type));
  const tsv = () =>
    delimitedLines(batches, fields, '\t', (n, bytes) => {
      rows += n;
      opts.onProgress?.(n, bytes);
    });
  const targets = table.columns.map((c) => (c.type === 'blob' ? `@${c.name}` : `\`${c.name}\``)).join(', ');
  const sets = table.columns.filter((c) => c.type === 'blob').map((c) => `\`${c.name}\` = UNHEX(@${c.name})`);
  const stmt =
    `LOAD DATA LOCAL INFILE 'cuttle-stream' INTO TABLE \`${table.name}\` CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '');
  await q(conn, stmt, undefined, { infileStreamFactory: () => Readable.from(tsv()) });
  return rows;
}

async function insertBatches(
  conn: mysql.Connection,
  table: TableSpec,
  batches: BatchSource,
  opts: BulkLoadOptions,
): Promise<number> {
  let rows = 0;
  const cols = table.columns.map((c) => `\`${c.name}\``).join(', ');
  await q(conn, 'START TRANSACTION');
  try {
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i += 500) {
        const part = batch.slice(i, i + 500).map((values) => {
          const row = decodeRow(table, values);
          return table.columns.map((c) => row[c.name]);
        });
        await q(conn, `INSERT INTO \`${table.name}\` (${cols}) VALUES ?`, [part]);
      }
      rows += batch.length;
      opts.onProgress?.(batch.length, 0);
    }
    await q(conn, 'COMMIT');
    return rows;
  } catch (err) {
    await q(conn, 'ROLLBACK').catch(() => {});
    throw err;
  }
}
