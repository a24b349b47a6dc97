import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import { INTEGERS_AS_NUMBERS, ROWS_AS_ARRAYS } from '../dialect.js';
import { withTableReads } from '../table-reads.js';
import { sqliteTableReads } from './sqlite-table-reads.js';

/**
 * better-sqlite3 refuses to bind booleans and loses integers above 2^53. This wrapper binds
 * booleans as 0/1 and reads every integer exactly (safeIntegers), turning it into a number when
 * it fits and a decimal string when it does not (the int64 codec's TypeScript form).
 */
function mapParam(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

function mapValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  return v;
}

function mapArray(row: unknown[]): unknown[] {
  for (let i = 0; i < row.length; i++) if (typeof row[i] === 'bigint') row[i] = mapValue(row[i]);
  return row;
}

function mapRow(row: unknown): unknown {
  if (row && typeof row === 'object') {
    const r = row as Record<string, unknown>;
    for (const k of Object.keys(r)) r[k] = mapValue(r[k]);
  }
  return row;
}

export function openSqliteHandle(file: string, opts: { readonly?: boolean } = {}): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
  });
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('busy_timeout = 10000');
  return db;
}

/**
 * Kysely prepares every query afresh; preparing was 12% of a node's CPU in the deployment
 * throughput profile, so statements are cached by SQL text. A cached statement still iterating
 * (a stream in progress) is busy and cannot be reused: such a call gets a fresh statement.
 */
const STATEMENT_CACHE_SIZE = 256;

function wrapSqlite(handle: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sqlText: string) => {
    const cached = cache.get(sqlText);
    if (cached && !cached.busy) return cached;
    const stmt = handle.prepare(sqlText);
    if (stmt.reader) stmt.safeIntegers(!sqlText.includes(INTEGERS_AS_NUMBERS));
    if (!cached) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sqlText, stmt);
    }
    return stmt;
  };
  return {
    close: () => handle.close(),
    prepare(sqlText: string) {
      const stmt = prepare(sqlText);
      const arrays = stmt.reader && sqlText.startsWith(ROWS_AS_ARRAYS);
      if (arrays) stmt.raw(true);
      return {
        reader: stmt.reader,
        all: (params: readonly unknown[]) =>
          arrays
            ? (stmt.all(...params.map(mapParam)) as unknown[][]).map(mapArray)
            : stmt.all(...params.map(mapParam)).map(mapRow),
        run: (params: readonly unknown[]) => {
          const r = stmt.run(...params.map(mapParam));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: function* (params: readonly unknown[]) {
          for (const row of stmt.iterate(...params.map(mapParam)))
            yield arrays ? mapArray(row as unknown[]) : mapRow(row);
        },
      };
    },
  };
}

/**
 * The Kysely dialect of a SQLite handle: every handle, the pool's and a snapshot's, reads tables
 * with SQLite's table reads (rendered pages, rowid order, a yield per page).
 */
export function sqliteKyselyDialect(open: () => BetterSqlite3.Database) {
  return withTableReads(
    new SqliteDialect({ database: async () => wrapSqlite(open()) as never }),
    sqliteTableReads,
  );
}
