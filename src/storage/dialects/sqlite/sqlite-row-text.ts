import { isUtf8 } from 'node:buffer';
import type { ColumnSpec, TableSpec } from '../../schema/column-types.js';

/**
 * SQLite renders a page of rows to row text itself (row-text.ts): one `group_concat` over the
 * page, handed over as one BLOB. Turning each value into a JavaScript value in the driver, then
 * encoding it again, was nearly all of a big SQLite read's main thread; a page that arrives as
 * bytes skips both, at less than half the CPU, the checks below included (docs/performance.md,
 * "Figures behind design choices").
 *
 * The page is used only if it is provably the text the JavaScript encoder (`lineWriter`) would
 * have written; otherwise the caller encodes that page in JavaScript as before, which also keeps
 * its errors (a value of the wrong type is the encoder's CodecError, as ever). Proof, per page:
 *   - every value has the storage class the encoder accepts without converting (SQLite checks
 *     it, see nonconformingSql: whole integers within 2^53 for int/bigint, 0/1 for bool, the
 *     canonical form of a timestamp), so SQLite's text of each value is the encoder's;
 *   - no value needs an escape: the bytes hold exactly one TAB per field boundary and one newline
 *     per row, a backslash only where a NULL (`\N`) or a blob (`\\x`) put one (SQLite counts
 *     those), and none of \b \f \r \v (a value that held any of these would add to the counts or
 *     show);
 *   - the bytes are valid UTF-8 (the driver would have replaced invalid sequences with U+FFFD).
 * Rows come in the inner query's order: the page is a subquery with ORDER BY and LIMIT, which
 * SQLite cannot flatten into the aggregate and runs as a co-routine that the aggregate reads in
 * order (the SQLite bundled with better-sqlite3 is pinned with it; test/db/sqlite-row-text.test.ts
 * compares both paths page by page in both orders, so an upgrade that changed this would fail
 * there, not in a user's hash). `group_concat(... ORDER BY ...)` would guarantee it, at 40% more
 * CPU (a sorter per page).
 */

const TAB = 9;
const NEWLINE = 10;
const BACKSLASH = 92;
/** \b \v \f \r: escaped by the encoder, never produced by a rendered page itself. */
const NEVER_RAW = [8, 11, 12, 13];

const ISO_GLOB =
  '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z';
const MAX_SAFE = '9007199254740991';

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The field's text, as the encoder writes it for a conforming value. */
function fieldSql(c: ColumnSpec): string {
  const col = q(c.name);
  switch (c.type) {
    case 'bool':
      return `CASE ${col} WHEN 1 THEN 't' WHEN 0 THEN 'f' ELSE '\\N' END`;
    case 'blob':
      return `CASE WHEN ${col} IS NULL THEN '\\N' ELSE '\\\\x' || lower(hex(${col})) END`;
    default:
      return c.nullable ? `ifnull(${col}, '\\N')` : col;
  }
}

/**
 * True where the value is not one the encoder writes as SQLite prints it (NULL where it is NULL,
 * which `total()` skips). Comparisons, not `typeof()`: SQLite orders NULL < numbers < TEXT < BLOB
 * whatever the column's affinity, and a function call per value costs twice as much. A TEXT-affinity column holds only TEXT, BLOB or NULL (SQLite
 * stores numbers in it as text), so `>= x''` finds the BLOB there; an INTEGER-affinity column
 * keeps a REAL only when it is not a whole number within 64 bits.
 */
function nonconformingSql(c: ColumnSpec): string {
  const col = q(c.name);
  switch (c.type) {
    case 'int':
    case 'bigint':
      // text and blobs sort above every number; a REAL is flagged by its fraction
      return `(${col} NOT BETWEEN -${MAX_SAFE} AND ${MAX_SAFE} OR ${col} - CAST(${col} AS INTEGER) <> 0)`;
    case 'int64':
      return `(typeof(${col}) NOT IN ('integer', 'null'))`;
    case 'bool':
      return `(${col} NOT IN (0, 1))`;
    case 'timestamp':
      return `(${col} NOT GLOB '${ISO_GLOB}' OR ${col} >= x'')`;
    case 'blob':
      return `(${col} < x'')`;
    default:
      return `(${col} >= x'')`;
  }
}

/** Backslashes the rendering itself writes into the field: `\N` for a NULL, `\\x` for a blob. */
function backslashesSql(c: ColumnSpec): string | undefined {
  const col = q(c.name);
  if (c.type === 'blob') return `(CASE WHEN ${col} IS NULL THEN 1 ELSE 2 END)`;
  return c.nullable ? `(${col} IS NULL)` : undefined;
}

/**
 * The columns of a page query's inner SELECT (after its own key or rowid columns): the line,
 * whether it holds a nonconforming value, and the backslashes the rendering wrote.
 */
export function renderedRowSql(table: TableSpec): string {
  const line = table.columns.map(fieldSql).join(' || char(9) || ');
  const bad = table.columns.map(nonconformingSql).join(' OR ');
  const slashes = table.columns.map(backslashesSql).filter(Boolean);
  return `${line} AS "line$", ${bad} AS "bad$", ${slashes.length ? slashes.join(' + ') : '0'} AS "bs$"`;
}

/**
 * The outer aggregate over an inner page query, up to its FROM: [text BLOB (null for no rows),
 * rows, last rowid (`"r$"`, where the inner query selects one), rows with a nonconforming value,
 * backslashes written].
 */
export function renderedPageSelect(withRowid: boolean): string {
  return `SELECT CAST(group_concat("line$", char(10)) || char(10) AS BLOB), count(*), ${
    withRowid ? 'max("r$")' : 'NULL'
  }, total("bad$"), total("bs$") FROM`;
}

function count(buf: Buffer, byte: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i >= 0; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

/** Whether a rendered page is exactly the encoder's text (see above). */
export function renderedPageHolds(
  table: TableSpec,
  text: Buffer,
  rows: number,
  nonconforming: number,
  backslashes: number,
): boolean {
  if (nonconforming !== 0) return false;
  for (const b of NEVER_RAW) if (text.indexOf(b) >= 0) return false;
  return (
    count(text, NEWLINE) === rows &&
    count(text, TAB) === rows * (table.columns.length - 1) &&
    count(text, BACKSLASH) === backslashes &&
    isUtf8(text)
  );
}
