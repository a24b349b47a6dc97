import { type Kysely, type RawBuilder, sql } from 'kysely';
import { LineBuffer } from './bulk-load/line-buffer.js';
import { type CanonicalValue, CodecError } from './codecs.js';
import { INTEGERS_AS_NUMBERS, ROWS_AS_ARRAYS } from './dialects/dialect.js';
import { type ReadOrder, tableReadsOf } from './dialects/table-reads.js';
import { lineReader, lineWriter, splitLines, wholeLines } from './row-text.js';
import type { TableSpec } from './schema/column-types.js';
import type { Database } from './schema/database-types.js';

export type { ReadOrder } from './dialects/table-reads.js';

export interface ReadOptions {
  /** Rows per query where the engine is paged (not PostgreSQL). */
  batchSize?: number;
  /** Resume after this primary key (canonical values; key order only). */
  after?: CanonicalValue[];
  /** Default: key. */
  order?: ReadOrder;
  /**
   * Where the engine renders pages itself (SQLite: dialects/sqlite/sqlite-row-text.ts), pages are
   * rendered by it where that is provably the encoder's text. False encodes every row in
   * JavaScript (to compare the two).
   */
  render?: boolean;
}

/**
 * Streams a table in primary-key order as row text (row-text.ts): buffers of whole lines.
 *
 * Where the engine streams whole tables (TableReads.streamTable: PostgreSQL's one `COPY (SELECT ...
 * ORDER BY pk) TO STDOUT`), its bytes are the row text already: no round trip per page, no row
 * objects, no JavaScript per row. It runs on whatever connection `db` stands for, so inside a
 * snapshot it reads the snapshot.
 *
 * Elsewhere, keyset pagination, rows as arrays where the driver can (ROWS_AS_ARRAYS), (`WHERE (pk)
 * > (last) ORDER BY pk LIMIT n`). Unlike OFFSET it costs the same on the last page as on the first,
 * it needs no server-side cursor (so it works inside any transaction on every engine), and a reader
 * can resume after any key.
 *
 * Key columns sort bytewise on every engine (see the dialects), so the order, and with it the
 * content hash, is the same everywhere.
 */
export async function* readTableText(
  db: Kysely<Database>,
  table: TableSpec,
  opts: ReadOptions = {},
): AsyncGenerator<Buffer> {
  const natural = opts.order === 'natural';
  if (natural && opts.after) throw new Error(`${table.name}: a natural-order read cannot resume after a key`);
  const reads = tableReadsOf(db);
  if (reads.streamTable) {
    yield* wholeLines(reads.streamTable(db, table, natural ? 'natural' : 'key', opts.after), table.name);
    return;
  }
  const batch = opts.batchSize ?? 2000;
  const write = lineWriter(table);
  // SQLite's natural order is its rowid, paged like a key (selected last, after the columns the
  // line is made of); InnoDB's is the primary key
  const byRowid = natural && reads.naturalOrderByRowid;
  const renderPage = opts.render !== false ? reads.renderPage : undefined;
  const yieldPerPage = reads.answersSynchronously;
  const pk = byRowid ? ['rowid'] : table.primaryKey;
  const pkIndex = byRowid
    ? [table.columns.length]
    : pk.map((k) => table.columns.findIndex((c) => c.name === k));
  const cols = sql.join([
    ...table.columns.map((c) => sql.ref(c.name)),
    ...(byRowid ? [sql.ref('rowid')] : []),
  ]);
  const order = sql.join(pk.map((k) => sql`${sql.ref(k)} ASC`));
  const hints = table.columns.some((c) => c.type === 'int64')
    ? ROWS_AS_ARRAYS
    : `${ROWS_AS_ARRAYS} ${INTEGERS_AS_NUMBERS}`;
  const page = (after: unknown[] | undefined) => {
    const where = after ? sql`WHERE ${keyAfter(pk, after)}` : sql``;
    return sql`FROM ${sql.table(table.name)} ${where} ORDER BY ${order} LIMIT ${sql.lit(batch)}`;
  };
  const readKey = renderPage && !byRowid ? keyReader(table, pkIndex) : undefined;
  const out = new LineBuffer();
  let after: unknown[] | undefined = opts.after;
  // A page the engine cannot render is read twice (rendered, then encoded): a table whose pages
  // mostly need escapes (scripts, Windows paths) stops being rendered once misses outrun hits by three.
  let rendered = 0;
  let missed = 0;
  for (let pages = 0; ; pages++) {
    // A driver that answers synchronously (SQLite) would, for a reader whose consumer never pushes
    // back (a COPY socket that keeps taking bytes), run page after page in one turn of the event
    // loop and starve every other socket: in a move, the table loaded beside it, the COMMIT of one
    // just finished (seen idle in transaction for over a second), the verification reads. One
    // yield per page.
    if (pages > 0 && yieldPerPage) await new Promise<void>((resolve) => setImmediate(resolve));
    if (renderPage && missed <= rendered + 2) {
      // the engine writes the page's text itself where that is provably the same text
      const got = await renderPage(db, table, page(after), byRowid);
      if (!got) missed++;
      else {
        rendered++;
        const pending = out.take();
        if (pending) yield pending;
        if (got.text) yield got.text;
        if (got.rows < batch) break;
        after = byRowid ? [safeRowid(table, got.lastRowid)] : readKey!(got.text!);
        continue;
      }
    }
    const r = await sql<
      Record<string, unknown> | unknown[]
    >`${sql.raw(hints)} SELECT ${cols} ${page(after)}`.execute(db);
    for (const row of r.rows) {
      const full = out.push(write(row));
      if (full) yield full;
    }
    if (r.rows.length < batch) break;
    const last = r.rows[r.rows.length - 1]!;
    after = Array.isArray(last)
      ? pkIndex.map((i) => last[i])
      : pk.map((k) => (last as Record<string, unknown>)[k]);
    if (byRowid) after = [safeRowid(table, after[0])];
  }
  const rest = out.take();
  if (rest) yield rest;
}

/** A rowid read as a number must be exact, or the next page would start at the wrong row. */
function safeRowid(table: TableSpec, rowid: unknown): number {
  if (typeof rowid !== 'number' || !Number.isSafeInteger(rowid)) {
    throw new CodecError(`${table.name}: rowid ${String(rowid)} is beyond 2^53; read it in key order`);
  }
  return rowid;
}

/** The key of a rendered page's last line, as values to page on from (no escapes: see above). */
function keyReader(table: TableSpec, pkIndex: number[]): (text: Buffer) => unknown[] {
  const read = lineReader(table);
  return (text) => {
    const start = text.lastIndexOf(10, text.length - 2) + 1;
    const values = read(text.toString('utf8', start, text.length - 1));
    return pkIndex.map((i) => values[i]);
  };
}

/**
 * `(k1, k2, ...) > (v1, v2, ...)` spelled as `k1 >= v1 AND (k1 > v1 OR (k2 >= v2 AND ...))`:
 * MariaDB does not turn a row-value comparison into an index range, so each page of a composite
 * key scanned the whole index (a 2M-row table took minutes); this form is a range on every engine.
 */
function keyAfter(keys: string[], values: unknown[]): RawBuilder<unknown> {
  const [k, ...restKeys] = keys;
  const [v, ...restValues] = values;
  const ref = sql.ref(k!);
  if (!restKeys.length) return sql`${ref} > ${v}`;
  return sql`${ref} >= ${v} AND (${ref} > ${v} OR (${keyAfter(restKeys, restValues)}))`;
}

/** The same rows as canonical values, in batches (for code that looks at values: keys, diffs, tests). */
export async function* readTable(
  db: Kysely<Database>,
  table: TableSpec,
  opts: ReadOptions = {},
): AsyncGenerator<CanonicalValue[][]> {
  const read = lineReader(table);
  for await (const buf of readTableText(db, table, opts)) yield splitLines(buf).map(read);
}
