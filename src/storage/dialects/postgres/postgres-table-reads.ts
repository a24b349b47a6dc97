import { type Kysely, sql } from 'kysely';
import { type CanonicalValue, CodecError } from '../../codecs.js';
import type { TableSpec } from '../../schema/column-types.js';
import type { Database } from '../../schema/database-types.js';
import type { TableReads } from '../table-reads.js';
import { postgresCapabilities } from './postgres-capabilities.js';

const quoteIdent = postgresCapabilities.quoteIdentifier;

/** A key value as a PostgreSQL literal (COPY takes no bind parameters). */
function pgLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CodecError(`${v} is not a key value`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `E'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * The whole table in heap order: `COPY table TO STDOUT`, PostgreSQL's cheapest read (a sequential
 * scan, no executor; bytea in hex and no synchronized scans: see postgresFactory).
 */
async function* copyWholeTable(db: Kysely<Database>, table: TableSpec): AsyncGenerator<Buffer> {
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  yield* copyOut(db, `COPY ${quoteIdent(table.name)} (${cols}) TO STDOUT`);
}

/** A `COPY ... TO STDOUT` statement's raw pieces (the PostgreSQL driver streams them as rows). */
async function* copyOut(db: Kysely<Database>, text: string): AsyncGenerator<Buffer> {
  for await (const result of db.getExecutor().stream(sql.raw(text).compile(db), 1)) {
    yield* result.rows as unknown as Buffer[];
  }
}

/**
 * One COPY for the whole table, as raw pieces. Blobs are selected as `'\x' || encode(col, 'hex')`
 * so the text is the same whatever bytea_output says.
 */
async function* copyTable(
  db: Kysely<Database>,
  table: TableSpec,
  after: CanonicalValue[] | undefined,
): AsyncGenerator<Buffer> {
  const exprs = table.columns
    .map((c) =>
      c.type === 'blob'
        ? `('\\x' || encode(${quoteIdent(c.name)}, 'hex')) AS ${quoteIdent(c.name)}`
        : quoteIdent(c.name),
    )
    .join(', ');
  const pk = table.primaryKey.map(quoteIdent);
  let where = '';
  if (after) {
    if (after.length !== pk.length) throw new Error(`${table.name}: a resume key needs ${pk.length} values`);
    where = ` WHERE (${pk.join(', ')}) > (${after.map(pgLiteral).join(', ')})`;
  }
  yield* copyOut(
    db,
    `COPY (SELECT ${exprs} FROM ${quoteIdent(table.name)}${where} ORDER BY ${pk
      .map((k) => `${k} ASC`)
      .join(', ')}) TO STDOUT`,
  );
}

/**
 * PostgreSQL streams a whole table in one `COPY ... TO STDOUT`, whose bytes are the row text
 * already: no round trip per page, no row objects, no JavaScript per row. Key order is
 * `COPY (SELECT ... ORDER BY pk)`, natural order the table-form COPY. It runs on whatever
 * connection `db` stands for, so inside a snapshot it reads the snapshot.
 */
export const postgresTableReads: TableReads = {
  streamTable: (db, table, order, after) =>
    order === 'natural' ? copyWholeTable(db, table) : copyTable(db, table, after),
  naturalOrderByRowid: false,
  answersSynchronously: false,
};
