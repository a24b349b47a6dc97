import { createHash, type Hash } from 'node:crypto';
import { type CanonicalValue, CodecError, encodeValue } from './codecs.js';
import type { LogicalType, TableSpec } from './schema/column-types.js';

/**
 * Row text: the canonical, engine-neutral encoding of a table's rows (backup archives from format
 * 2 on, content hashes, moves). One line per row, fields separated by TAB, exactly PostgreSQL's
 * `COPY ... TO STDOUT` text format for Cuttle's column types:
 *   id/text/longtext/json  the string, with \\ \b \f \n \r \t \v escaped (other bytes as they are)
 *   timestamp              `YYYY-MM-DDTHH:MM:SS.mmmZ`
 *   int/bigint/int64       decimal
 *   bool                   t / f
 *   blob                   \\x<hex> (bytea's hex form, escaped)
 *   NULL                   \N
 * Why this and not JSON: on PostgreSQL the bytes COPY sends ARE the canonical lines, so reading,
 * hashing (in C, over whole buffers), archiving and loading another PostgreSQL (COPY FROM) need
 * no per-row JavaScript at all; MySQL's LOAD DATA reads the same format with two escapes fixed
 * (mysql-bulk-load.ts). Other engines' rows are encoded here, once, into the line that is both
 * hashed and loaded.
 */

const SPECIAL = /[\\\b\f\n\r\t\v]/;
const SPECIAL_ALL = /[\\\b\f\n\r\t\v]/g;
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

export const NULL_FIELD = '\\N';

export function escapeText(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : s;
}

/** COPY text escapes back to characters (also the octal and hex forms COPY FROM accepts). */
export function unescapeText(s: string): string {
  let i = s.indexOf('\\');
  if (i < 0) return s;
  let out = '';
  let from = 0;
  for (; i >= 0 && i < s.length - 1; i = s.indexOf('\\', from)) {
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

type FieldWriter = (v: unknown) => string;

/** A driver value (or a canonical one: blobs as base64) to its field text. */
function fieldWriter(type: LogicalType, label: string): FieldWriter {
  switch (type) {
    case 'id':
    case 'text':
    case 'longtext':
    case 'json':
      return (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        if (typeof v !== 'string') throw new CodecError(`${label}: expected text, got ${typeof v}`);
        return escapeText(v);
      };
    case 'int':
    case 'bigint':
      return (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
        return String(encodeValue(type, v, label));
      };
    case 'blob':
      return (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        const bytes =
          typeof v === 'string'
            ? Buffer.from(v, 'base64')
            : v instanceof Uint8Array
              ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
              : undefined;
        if (!bytes) throw new CodecError(`${label}: expected bytes`);
        return `\\\\x${bytes.toString('hex')}`;
      };
    case 'bool':
      return (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        return encodeValue(type, v, label) ? 't' : 'f';
      };
    default:
      // timestamp (canonical text has no character to escape) and int64 (decimal string)
      return (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        return String(encodeValue(type, v, label));
      };
  }
}

/**
 * Row to line, set up once per table: accepts a row as an array in column order (drivers that
 * honour ROWS_AS_ARRAYS, or canonical values) or as an object by column name.
 */
export function lineWriter(table: TableSpec): (row: Record<string, unknown> | unknown[]) => string {
  const writers = table.columns.map((c) => fieldWriter(c.type, `${table.name}.${c.name}`));
  const names = table.columns.map((c) => c.name);
  const n = writers.length;
  return (row) => {
    const arr = Array.isArray(row);
    let line = '';
    for (let i = 0; i < n; i++) {
      const v = arr ? row[i] : (row as Record<string, unknown>)[names[i]!];
      line += i === 0 ? writers[0]!(v) : `\t${writers[i]!(v)}`;
    }
    return `${line}\n`;
  };
}

type FieldReader = (field: string) => CanonicalValue;

const INT64 = /^(?:0|-?[1-9]\d*)$/;

function fieldReader(type: LogicalType, label: string): FieldReader {
  switch (type) {
    case 'id':
    case 'text':
    case 'longtext':
    case 'json':
      return unescapeText;
    case 'timestamp':
      return (f) => encodeValue(type, f, label);
    case 'int':
    case 'bigint':
      return (f) => {
        const n = Number(f);
        if (f === '' || !Number.isSafeInteger(n)) {
          throw new CodecError(`${label}: ${f} is not an integer below 2^53`);
        }
        return n;
      };
    case 'int64':
      return (f) => (INT64.test(f) ? f : encodeValue(type, f, label));
    case 'bool':
      return (f) => encodeValue(type, f, label);
    case 'blob':
      return (f) => {
        const raw = unescapeText(f);
        if (!raw.startsWith('\\x')) throw new CodecError(`${label}: ${f.slice(0, 20)} is not \\x<hex>`);
        return Buffer.from(raw.slice(2), 'hex').toString('base64');
      };
  }
}

/** Line (without its newline) to canonical values, set up once per table. */
export function lineReader(table: TableSpec): (line: string) => CanonicalValue[] {
  const readers = table.columns.map((c) => fieldReader(c.type, `${table.name}.${c.name}`));
  const n = readers.length;
  return (line) => {
    const fields = line.split('\t');
    if (fields.length !== n) {
      throw new CodecError(`${table.name}: a row has ${fields.length} fields, the table ${n} columns`);
    }
    const out: CanonicalValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      out[i] = f === NULL_FIELD ? null : readers[i]!(f);
    }
    return out;
  };
}

/** The lines of a buffer of whole lines, without their newlines. */
export function splitLines(buf: Buffer): string[] {
  const lines = buf.toString('utf8').split('\n');
  lines.pop();
  return lines;
}

/** Rows in a buffer of whole lines (every row ends with the only unescaped newline it has). */
export function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Content hash of a table: SHA-256 over its row text in primary-key order, with rows and bytes. */
export class RowTextHasher {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;
  bytes = 0;
  /** Adds whole lines; returns how many rows they hold. */
  add(buf: Buffer): number {
    const n = countLines(buf);
    this.hash.update(buf);
    this.rows += n;
    this.bytes += buf.length;
    return n;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Re-cuts a byte stream at line ends: every piece yielded holds only whole lines (a line can span
 * pieces of a COPY stream or an archive entry). Only the line that straddles two pieces is copied;
 * the rest goes on as views of the pieces. A trailing partial line is an error: the stream ended
 * inside a row.
 */
export async function* wholeLines(source: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const piece of source) {
    let start = 0;
    if (pending.length) {
      const first = piece.indexOf(10);
      if (first < 0) {
        pending.push(piece);
        continue;
      }
      yield Buffer.concat([...pending, piece.subarray(0, first + 1)]);
      pending = [];
      start = first + 1;
    }
    const end = piece.lastIndexOf(10);
    if (end < start) {
      if (start < piece.length) pending.push(piece.subarray(start));
      continue;
    }
    yield start === 0 && end === piece.length - 1 ? piece : piece.subarray(start, end + 1);
    if (end + 1 < piece.length) pending.push(piece.subarray(end + 1));
  }
  if (pending.length) throw new CodecError(`${what}: the row stream ended inside a row`);
}
