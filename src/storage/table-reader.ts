import { type Kysely, sql } from 'kysely';
import { type CanonicalValue, CodecError, encodeValue, rowEncoder } from './codecs.js';
import { ROWS_AS_ARRAYS, streamsCopyTo } from './dialects/dialect.js';
import type { LogicalType, TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';

/**
 * Streams a table in primary-key order, as batches of canonical rows.
 *
 * Where the engine can (PostgreSQL, see `streamsCopyTo`), one `COPY (SELECT ... ORDER BY pk) TO
 * STDOUT` streams the whole table in text format and the text is turned straight into canonical
 * values: no round trip per page, no row objects, no type parsers. It runs on whatever connection
 * `db` stands for, so inside a snapshot it reads the snapshot.
 *
 * Elsewhere, keyset pagination, rows as arrays where the driver can (ROWS_AS_ARRAYS), (`WHERE (pk) > (last) ORDER BY pk LIMIT n`). Unlike OFFSET it costs
 * the same on the last page as on the first, it needs no server-side cursor (so it works inside any
 * transaction on every engine), and a reader can resume after any key.
 *
 * Key columns sort bytewise on every engine (see the dialects), so the order, and with it the
 * content hash, is the same everywhere.
 */
export async function* readTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: { batchSize?: number; after?: CanonicalValue[] } = {},
): AsyncGenerator<CanonicalValue[][]> {
  if (streamsCopyTo(db)) {
    yield* copyTable(db, table, opts);
    return;
  }
  const batch = opts.batchSize ?? 2000;
  const encode = rowEncoder(table);
  const pk = table.primaryKey;
  const pkIndex = pk.map((k) => table.columns.findIndex((c) => c.name === k));
  let after: unknown[] | undefined = opts.after;
  const cols = sql.join(table.columns.map((c) => sql.ref(c.name)));
  const order = sql.join(pk.map((k) => sql`${sql.ref(k)} ASC`));
  const pkRefs = pk.length === 1 ? sql.ref(pk[0]!) : sql`(${sql.join(pk.map((k) => sql.ref(k)))})`;
  for (;;) {
    const where = after
      ? sql`WHERE ${pkRefs} > ${pk.length === 1 ? sql`${after[0]}` : sql`(${sql.join(after.map((v) => sql`${v}`))})`}`
      : sql``;
    const r = await sql<
      Record<string, unknown> | unknown[]
    >`${sql.raw(ROWS_AS_ARRAYS)} SELECT ${cols} FROM ${sql.table(table.name)} ${where} ORDER BY ${order} LIMIT ${sql.lit(batch)}`.execute(
      db,
    );
    if (r.rows.length === 0) return;
    const rows = r.rows.map(encode);
    yield rows;
    if (r.rows.length < batch) return;
    const last = rows[rows.length - 1]!;
    after = pkIndex.map((i) => last[i]);
  }
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A key value as a PostgreSQL literal (COPY takes no bind parameters). */
function pgLiteral(v: CanonicalValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CodecError(`${v} is not a key value`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** COPY text format escapes: \\ \b \f \n \r \t \v, octal \ooo and hex \xhh. */
function unescapeCopy(s: string): string {
  let out = '';
  let from = 0;
  for (let i = s.indexOf('\\'); i >= 0 && i < s.length - 1; i = s.indexOf('\\', from)) {
    out += s.slice(from, i);
    const c = s[i + 1]!;
    from = i + 2;
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4));
        if (m) {
          out += String.fromCharCode(Number.parseInt(m[0], 16));
          from = i + 2 + m[0].length;
        } else out += 'x';
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          const m = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))!;
          out += String.fromCharCode(Number.parseInt(m[0], 8));
          from = i + 1 + m[0].length;
        } else out += c;
    }
  }
  return out + s.slice(from);
}

type FieldDecoder = (field: string) => CanonicalValue;

const INT64 = /^(?:0|-?[1-9]\d*)$/;

function fieldDecoder(type: LogicalType, column: string): FieldDecoder {
  switch (type) {
    case 'id':
    case 'text':
    case 'longtext':
    case 'json':
      return (f) => (f.indexOf('\\') < 0 ? f : unescapeCopy(f));
    case 'timestamp':
      // canonical text in PostgreSQL (text COLLATE "C"); the codec still checks its shape
      return (f) => encodeValue(type, f, column);
    case 'int':
    case 'bigint':
      return (f) => {
        const n = Number(f);
        if (!Number.isSafeInteger(n) || f === '') {
          throw new CodecError(`${column}: ${f} is not an integer below 2^53`);
        }
        return n;
      };
    case 'int64':
      return (f) => (INT64.test(f) ? f : encodeValue(type, f, column));
    case 'bool':
      return (f) => encodeValue(type, f, column);
    case 'blob':
      // selected as encode(col, 'hex'): plain hex whatever bytea_output says
      return (f) => Buffer.from(f, 'hex').toString('base64');
  }
}

/** One COPY for the whole table; the text is cut at row ends and decoded column by column. */
async function* copyTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: { batchSize?: number; after?: CanonicalValue[] },
): AsyncGenerator<CanonicalValue[][]> {
  const batchSize = opts.batchSize ?? 2000;
  const cols = table.columns;
  const n = cols.length;
  const decoders = cols.map((c) => fieldDecoder(c.type, `${table.name}.${c.name}`));
  const exprs = cols
    .map((c) => (c.type === 'blob' ? `encode(${quoteIdent(c.name)}, 'hex')` : quoteIdent(c.name)))
    .join(', ');
  const pk = table.primaryKey.map(quoteIdent);
  let where = '';
  if (opts.after) {
    if (opts.after.length !== pk.length)
      throw new Error(`${table.name}: a resume key needs ${pk.length} values`);
    where = ` WHERE (${pk.join(', ')}) > (${opts.after.map(pgLiteral).join(', ')})`;
  }
  const text = `COPY (SELECT ${exprs} FROM ${quoteIdent(table.name)}${where} ORDER BY ${pk
    .map((k) => `${k} ASC`)
    .join(', ')}) TO STDOUT`;
  const compiled = sql.raw(text).compile(db);
  let pending: Buffer[] = [];
  let batch: CanonicalValue[][] = [];
  const decodeLines = (s: string) => {
    const lines = s.split('\n');
    // s ends with "\n": the last element is empty
    for (let l = 0; l < lines.length - 1; l++) {
      const fields = lines[l]!.split('\t');
      if (fields.length !== n) {
        throw new CodecError(`${table.name}: a COPY row has ${fields.length} fields, the table ${n} columns`);
      }
      const row: CanonicalValue[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        row[i] = f === '\\N' ? null : decoders[i]!(f);
      }
      batch.push(row);
    }
  };
  for await (const result of db.getExecutor().stream(compiled, 1)) {
    for (const piece of result.rows as unknown as Buffer[]) {
      const end = piece.lastIndexOf(0x0a);
      if (end < 0) {
        pending.push(piece);
        continue;
      }
      const head = piece.subarray(0, end + 1);
      // a row ends at a newline byte, never inside a UTF-8 sequence
      decodeLines((pending.length ? Buffer.concat([...pending, head]) : head).toString('utf8'));
      pending = end + 1 < piece.length ? [piece.subarray(end + 1)] : [];
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (pending.length) throw new CodecError(`${table.name}: COPY output ended inside a row`);
  if (batch.length) yield batch;
}
