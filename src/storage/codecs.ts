import { createHash, type Hash } from 'node:crypto';
import type { ColumnSpec, LogicalType, TableSpec } from './schema/column-types.js';

/**
 * Canonical, engine-neutral encoding of rows. A row becomes a JSON array with one element per
 * column, in TableSpec order:
 *   id/text/longtext/json  the string, byte for byte
 *   int/bigint             a JSON number
 *   int64                  a decimal string (exact beyond 2^53)
 *   bool                   true/false (whatever 0/1/'t' the engine returned)
 *   timestamp              `YYYY-MM-DDTHH:MM:SS.mmmZ`
 *   blob                   base64 string
 *   NULL                   null
 * One line per row (`JSON.stringify(array)` + "\n") is both what backup archives store and what
 * content hashes are computed over, so "the archive verifies" and "the target matches the source"
 * are the same check on every engine.
 */
export type CanonicalValue = string | number | boolean | null;

export class CodecError extends Error {}

export function encodeValue(type: LogicalType, v: unknown, column: string): CanonicalValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'id':
    case 'text':
    case 'longtext':
    case 'json':
      if (typeof v !== 'string') throw new CodecError(`${column}: expected text, got ${typeof v}`);
      return v;
    case 'timestamp':
      return encodeTimestamp(v, column);
    case 'int':
    case 'bigint': {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v);
      if (!Number.isSafeInteger(n))
        throw new CodecError(`${column}: ${String(v)} is not an integer below 2^53`);
      return n;
    }
    case 'int64': {
      const s =
        typeof v === 'string'
          ? v
          : typeof v === 'bigint'
            ? v.toString()
            : typeof v === 'number'
              ? String(v)
              : '';
      if (!/^-?\d+$/.test(s)) throw new CodecError(`${column}: ${String(v)} is not an integer`);
      return BigInt(s).toString();
    }
    case 'bool':
      if (v === true || v === 1 || v === '1' || v === 't') return true;
      if (v === false || v === 0 || v === '0' || v === 'f') return false;
      throw new CodecError(`${column}: ${String(v)} is not a boolean`);
    case 'blob':
      if (Buffer.isBuffer(v)) return v.toString('base64');
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      throw new CodecError(`${column}: expected bytes`);
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function encodeTimestamp(v: unknown, column: string): string {
  if (typeof v === 'string' && ISO.test(v)) return v;
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString();
  throw new CodecError(`${column}: ${String(v)} is not a canonical UTC timestamp`);
}

/** Canonical value to the value an engine's driver binds for that column. */
export function decodeValue(type: LogicalType, v: CanonicalValue): unknown {
  if (v === null) return null;
  switch (type) {
    case 'blob':
      return Buffer.from(String(v), 'base64');
    case 'int64':
      return String(v);
    default:
      return v;
  }
}

export function encodeRow(table: TableSpec, row: Record<string, unknown>): CanonicalValue[] {
  return table.columns.map((c: ColumnSpec) => encodeValue(c.type, row[c.name], `${table.name}.${c.name}`));
}

/**
 * `encodeRow` for many rows of one table, set up once: accepts a row as an object by column name or
 * as an array in column order (drivers that honour ROWS_AS_ARRAYS).
 */
export function rowEncoder(table: TableSpec): (row: Record<string, unknown> | unknown[]) => CanonicalValue[] {
  const cols = table.columns;
  const n = cols.length;
  const names = cols.map((c) => c.name);
  const types = cols.map((c) => c.type);
  const labels = cols.map((c) => `${table.name}.${c.name}`);
  const plain = types.map((t) => t === 'id' || t === 'text' || t === 'longtext' || t === 'json');
  return (row) => {
    const arr = Array.isArray(row);
    const out: CanonicalValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = arr ? row[i] : (row as Record<string, unknown>)[names[i]!];
      out[i] = plain[i] && typeof v === 'string' ? v : encodeValue(types[i]!, v, labels[i]!);
    }
    return out;
  };
}

export function decodeRow(table: TableSpec, values: CanonicalValue[]): Record<string, unknown> {
  if (values.length !== table.columns.length) {
    throw new CodecError(
      `${table.name}: a row has ${values.length} values, the table ${table.columns.length} columns`,
    );
  }
  const row: Record<string, unknown> = {};
  table.columns.forEach((c, i) => {
    row[c.name] = decodeValue(c.type, values[i] ?? null);
  });
  return row;
}

export function rowLine(values: CanonicalValue[]): string {
  return `${JSON.stringify(values)}\n`;
}

/** The primary key of a canonical row, as a printable string (for "first differing key"). */
export function keyOf(table: TableSpec, values: CanonicalValue[]): string {
  return table.primaryKey
    .map((k) => `${k}=${String(values[table.columns.findIndex((c) => c.name === k)])}`)
    .join(', ');
}

const HASH_PIECE = 64 * 1024;

/** Content hash of a table: SHA-256 over its canonical lines in primary-key order. */
export class TableHasher {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;
  bytes = 0;
  addLine(line: string): void {
    this.hash.update(line);
    this.rows++;
    this.bytes += Buffer.byteLength(line);
  }
  /**
   * The lines of `rows`, hashed ~64 KB at a time: the same digest, rows and bytes as `addLine` on
   * each row's line, for a fraction of the calls. Returns the bytes added.
   */
  addRows(rows: CanonicalValue[][]): number {
    let text = '';
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      text += rowLine(rows[i]!);
      if (text.length >= HASH_PIECE) {
        bytes += this.addText(text);
        text = '';
      }
    }
    if (text) bytes += this.addText(text);
    this.rows += rows.length;
    return bytes;
  }
  private addText(text: string): number {
    this.hash.update(text, 'utf8');
    const n = Buffer.byteLength(text, 'utf8');
    this.bytes += n;
    return n;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}
