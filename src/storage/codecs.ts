import type { LogicalType, TableSpec } from './schema/column-types.js';

/**
 * Canonical values of a row: one element per column, in TableSpec order, the same whatever engine
 * the row came from:
 *   id/text/longtext/json  the string, byte for byte
 *   int/bigint             a JSON number
 *   int64                  a decimal string (exact beyond 2^53)
 *   bool                   true/false (whatever 0/1/'t' the engine returned)
 *   timestamp              `YYYY-MM-DDTHH:MM:SS.mmmZ`
 *   blob                   base64 string
 *   NULL                   null
 * What archives store and hashes cover is the row text (row-text.ts), which encodes exactly these
 * values; canonical values are for code that looks inside rows (keys, differences, SQLite binds).
 * Archives of format 1 stored each row as `JSON.stringify(values)` (archive-format-1.ts).
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

/** The primary key of a canonical row, as a printable string (for "first differing key"). */
export function keyOf(table: TableSpec, values: CanonicalValue[]): string {
  return table.primaryKey
    .map((k) => `${k}=${String(values[table.columns.findIndex((c) => c.name === k)])}`)
    .join(', ');
}
