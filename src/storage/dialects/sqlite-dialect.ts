import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { ConnectionTarget } from '../../config/connection-string.js';
import type { LogicalType } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';
import {
  type Dialect,
  type DialectFactory,
  INTEGERS_AS_NUMBERS,
  type PrivilegeReport,
  ROWS_AS_ARRAYS,
} from './dialect.js';
import { watchWrites } from './write-watching-dialect.js';

const TYPES: Record<LogicalType, string> = {
  id: 'TEXT',
  text: 'TEXT',
  longtext: 'TEXT',
  json: 'TEXT',
  int: 'INTEGER',
  bigint: 'INTEGER',
  int64: 'INTEGER',
  bool: 'INTEGER',
  timestamp: 'TEXT',
  blob: 'BLOB',
};

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

export function wrapSqlite(handle: BetterSqlite3.Database) {
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

class SqliteDialectInfo implements Dialect {
  readonly engine = 'sqlite' as const;
  readonly supportsSkipLocked = false;
  readonly supportsReturning = true;
  readonly supportsTransactionalDdl = true;
  readonly singleWriter = true;
  constructor(
    readonly serverVersion: string,
    private readonly file: string,
  ) {}
  get label() {
    return `SQLite ${this.serverVersion}`;
  }
  columnType(type: LogicalType) {
    return TYPES[type];
  }
  tableOptions() {
    return '';
  }
  async currentUser() {
    return process.env.USER ?? 'local user';
  }
  async checkPrivileges(): Promise<PrivilegeReport> {
    const missing: string[] = [];
    try {
      fs.accessSync(path.dirname(this.file), fs.constants.W_OK);
    } catch {
      missing.push(`write access to the folder ${path.dirname(this.file)} (SQLite writes its journal there)`);
    }
    if (fs.existsSync(this.file)) {
      try {
        fs.accessSync(this.file, fs.constants.W_OK | fs.constants.R_OK);
      } catch {
        missing.push(`read and write access to ${this.file}`);
      }
    }
    return { missing, fix: missing.length ? [`chown the folder and file to the user that runs Cuttle`] : [] };
  }
  grantStatements() {
    return [];
  }
  async listTables(db: Kysely<Database>) {
    const r = await sql<{
      name: string;
    }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
    return r.rows.map((x) => x.name);
  }
  async freeSpace() {
    try {
      const s = fs.statfsSync(path.dirname(this.file));
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }
  async databaseSize() {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return undefined;
    }
  }
}

export const sqliteFactory: DialectFactory = {
  engine: 'sqlite',
  createKysely(target: ConnectionTarget, opts) {
    if (target.engine !== 'sqlite') throw new Error('not sqlite');
    const dialect = new SqliteDialect({
      database: async () => wrapSqlite(openSqliteHandle(target.file)) as never,
    });
    return new Kysely<Database>({ dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect });
  },
  async createDatabase(target) {
    if (target.engine !== 'sqlite') throw new Error('not sqlite');
    if (fs.existsSync(target.file)) return false;
    fs.mkdirSync(path.dirname(target.file), { recursive: true });
    openSqliteHandle(target.file).close();
    return true;
  },
  async dropDatabase(target) {
    if (target.engine !== 'sqlite') throw new Error('not sqlite');
    for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(target.file + suffix, { force: true });
  },
  async describe(db, target) {
    if (target.engine !== 'sqlite') throw new Error('not sqlite');
    const r = await sql<{ v: string }>`SELECT sqlite_version() AS v`.execute(db);
    return new SqliteDialectInfo(r.rows[0]!.v, target.file);
  },
};
