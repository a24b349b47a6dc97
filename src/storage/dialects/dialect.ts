import { type Kysely, SqliteAdapter } from 'kysely';
import type { ConnectionTarget, Engine } from '../../config/connection-string.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';
import type { TableChanges } from '../table-changes.js';

/**
 * What differs between engines, as capabilities (Kysely's DialectAdapter style). Services ask
 * these questions and never compare engine names.
 */
export interface PrivilegeReport {
  /** What the connected user lacks, in words an admin understands. Empty means all is well. */
  missing: string[];
  /** SQL (or a `cuttle database grant` command) that would fix it, run by a privileged user. */
  fix: string[];
}

export interface Dialect {
  readonly engine: Engine;
  /** Human name: "PostgreSQL 15.20", "MariaDB 10.11.19", "SQLite 3.49.1". */
  readonly label: string;
  readonly serverVersion: string;
  readonly supportsSkipLocked: boolean;
  readonly supportsReturning: boolean;
  readonly supportsTransactionalDdl: boolean;
  /** Only one writer at a time (SQLite): the task queue claims under an immediate transaction. */
  readonly singleWriter: boolean;
  /** Engine column type for a logical type. */
  columnType(type: LogicalType): string;
  /** Extra clause after CREATE TABLE (...), e.g. MySQL's engine and collation. */
  tableOptions(): string;
  /** The user Cuttle connects as, for messages and grants. */
  currentUser(db: Kysely<Database>): Promise<string>;
  checkPrivileges(db: Kysely<Database>): Promise<PrivilegeReport>;
  grantStatements(user: string, database: string): string[];
  listTables(db: Kysely<Database>): Promise<string[]>;
  /** Free bytes where the engine can tell; undefined where it cannot. */
  freeSpace(db: Kysely<Database>): Promise<number | undefined>;
  /** Bytes used by Cuttle's tables where the engine can tell. */
  databaseSize(db: Kysely<Database>): Promise<number | undefined>;
}

export interface DialectFactory {
  readonly engine: Engine;
  /** `changes`, when given, hears of every committed write through the handle (write-watching-dialect.ts). */
  createKysely(
    target: ConnectionTarget,
    opts: { poolSize?: number; changes?: TableChanges },
  ): Kysely<Database>;
  /** Creates the database on its server when missing (needs CREATEDB / CREATE). Returns true if created. */
  createDatabase(target: ConnectionTarget): Promise<boolean>;
  dropDatabase(target: ConnectionTarget): Promise<void>;
  describe(db: Kysely<Database>, target: ConnectionTarget): Promise<Dialect>;
}

export function createTableSql(dialect: Dialect, table: TableSpec, quote: (s: string) => string): string {
  const cols = table.columns.map(
    (col) => `${quote(col.name)} ${dialect.columnType(col.type)}${col.nullable ? '' : ' NOT NULL'}`,
  );
  cols.push(`PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})`);
  return `CREATE TABLE ${quote(table.name)} (\n  ${cols.join(',\n  ')}\n)${dialect.tableOptions()}`;
}

/**
 * Whether `db` (a pool or one connection of it, such as a snapshot's) can stream a query's result
 * with `COPY (...) TO STDOUT` through Kysely's `stream()`: PostgreSQL's adapter says so.
 */
export function streamsCopyTo(db: Kysely<Database>): boolean {
  return (db.getExecutor().adapter as { copyToStdout?: boolean }).copyToStdout === true;
}

/** Whether `db` is a SQLite database (its adapter is Kysely's SQLite adapter). */
export function isSqlite(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/**
 * A comment a SELECT may start with to ask for its rows as arrays in column order instead of
 * objects (SQLite honours it: better-sqlite3's raw mode, no per-row object). Drivers that ignore it
 * return objects, so a caller MUST accept both.
 */
export const ROWS_AS_ARRAYS = '/* cuttle:rows-as-arrays */';

/**
 * A comment a SELECT may carry (after ROWS_AS_ARRAYS) when none of its columns needs integers
 * beyond 2^53: SQLite then returns integers as numbers instead of exactly as BigInts (13% of a
 * table read's fetch time). Nothing is rounded quietly: a value at or beyond 2^53 comes back as a
 * number that is not a safe integer, which the row text writer refuses for `int` and `bigint`.
 * Drivers that ignore it return what they always do.
 */
export const INTEGERS_AS_NUMBERS = '/* cuttle:integers-as-numbers */';
