import type { Kysely } from 'kysely';
import type { ConnectionTarget, Engine } from '../../config/connection-string.js';
import type { CuttleError } from '../../lib/errors.js';
import type { BulkLoadOptions, TextSource } from '../bulk-load/bulk-load-types.js';
import type { LogicalType, TableSpec } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';
import type { TableChanges } from '../table-changes.js';
import { type TableReads, tableReadsOf } from './table-reads.js';
import type { Wakeups } from './wakeups.js';

/**
 * What differs between engines, as capabilities (Kysely's DialectAdapter style). Services ask
 * these questions and never compare engine names. Each engine answers them in a folder of its own
 * (`dialects/<engine>/`), registered once in `registry.ts`; adding a member here makes the
 * compiler list every engine that does not answer it yet.
 */
export interface PrivilegeReport {
  /** What the connected user lacks, in words an admin understands. Empty means all is well. */
  missing: string[];
  /** SQL (or a `cuttle database grant` command) that would fix it, run by a privileged user. */
  fix: string[];
}

/** What an engine is known to do before anything connects: the same for every server of it. */
export interface EngineCapabilities {
  readonly engine: Engine;
  /** The engine's family, for plans and messages: "SQLite", "PostgreSQL", "MySQL/MariaDB". */
  readonly displayName: string;
  /**
   * A table one bulk load filled (into an empty table) reads back in natural order (ReadOrder) in
   * the order it was loaded: a copy can then stream its source in natural order and check the
   * target without sorting either side. False where natural order is key order (InnoDB).
   */
  readonly loadOrderIsNatural: boolean;
  /**
   * The bulk loader honours BulkLoadOptions.replace by emptying the table itself, inside the
   * load's transaction; where false, a caller that replaces a table's rows empties it first.
   */
  readonly loadReplaces: boolean;
  /** Tables a move copies at once into this engine unless the admin says otherwise (one writer: 1). */
  readonly defaultCopyConcurrency: number;
  /**
   * A restore into an empty database of this engine may read the archive once, checking each
   * entry as it loads. False where a check must run on the whole manifest before anything is
   * written (SQLite's free space, which the archive's sizes tell).
   */
  readonly onePassRestore: boolean;
  /** An identifier (table, column, index name) quoted for this engine's SQL. */
  quoteIdentifier(name: string): string;
  /**
   * A SQL condition true where the (quoted) text column holds a value outside the portable domain
   * (lib/portable-domain.ts): a NUL anywhere, or more than `maxChars` characters when given.
   * Undefined where this engine cannot hold such a value at all (nothing to look for).
   */
  nonPortableText(column: string, maxChars?: number): string | undefined;
  /**
   * What text outside the portable domain this engine still stores: a NUL, and short text (`id`,
   * `text`) up to `shortTextMax` characters (undefined: any length). A restore refuses an archive
   * holding an old value the target would refuse, naming it, before loading it.
   */
  readonly holdsText: { readonly nul: boolean; readonly shortTextMax?: number };
  /**
   * Several nodes (server processes, on one machine or many) may share a database of this
   * engine. False for SQLite, a file with one writer: a second node is refused at start.
   */
  readonly multiNode: boolean;
  /**
   * The database server's current time, as the canonical timestamp text every `timestamp` column
   * holds (24 characters, UTC, milliseconds: what nowIso() writes). Task fencing compares leases
   * with the database's clock at the moment the statement runs, not with a time the writer computed
   * before (a node paused in between would pass a stale check).
   */
  readonly nowTimestampSql: string;
}

/**
 * The index work around a bulk load into an empty table (bulk-load/deferred-indexes.ts), which
 * drops a big table's indexes before it loads and builds them after.
 */
export interface DialectIndexes {
  /**
   * The name of the table's primary key where it is a constraint a bulk load drops and builds
   * again after (PostgreSQL: `<table>_pkey`, as CREATE TABLE named it); undefined where the key
   * stays (InnoDB keeps rows in key order; SQLite cannot drop a primary key).
   */
  primaryKeyConstraint(table: TableSpec): string | undefined;
  /** The indexes (primary key constraint included) of every table, or only of `table`. */
  list(db: Kysely<Database>, table?: string): Promise<{ table: string; name: string }[]>;
  /** The statement that drops the secondary index `index` of `table`. */
  dropIndexSql(table: string, index: string): string;
  /** Runs one table's index builds (on one connection, `db`) under the engine's settings for building. */
  withBuildSettings<T>(db: Kysely<Database>, build: () => Promise<T>): Promise<T>;
}

/** One connected database: the server's answers, and the engine's ways of doing the heavy work. */
export interface Dialect {
  readonly engine: Engine;
  readonly capabilities: EngineCapabilities;
  readonly indexes: DialectIndexes;
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
  /**
   * What `cuttle database grant --user NAME` runs to give `user` what Cuttle needs on this
   * database (lines starting with `--` are comments). Throws a PreconditionError where the engine
   * has no users (SQLite).
   */
  grantTo(user: string): string[];
  listTables(db: Kysely<Database>): Promise<string[]>;
  /**
   * Free bytes where the database's files are, where Cuttle can see them (a file database);
   * undefined where it cannot (a server's disk), and nothing checks the room there.
   */
  freeSpace(db: Kysely<Database>): Promise<number | undefined>;
  /** Bytes used by Cuttle's tables where the engine can tell. */
  databaseSize(db: Kysely<Database>): Promise<number | undefined>;
  /**
   * Loads row text (buffers of whole lines) into `table` by the engine's fast path, atomically:
   * the table gets all rows of the call or none. Returns the rows loaded.
   */
  bulkLoadText(table: TableSpec, text: TextSource, opts: BulkLoadOptions): Promise<number>;
  /**
   * Runs `read` against one consistent, read-only view of the database while others keep writing.
   * Every query `read` makes MUST go through the handle it receives, or it leaves the snapshot.
   */
  withSnapshot<T>(db: Kysely<Database>, read: (snapshot: Kysely<Database>) => Promise<T>): Promise<T>;
}

export interface DialectFactory {
  readonly engine: Engine;
  readonly capabilities: EngineCapabilities;
  /** How a handle of this engine reads whole tables (table-reads.ts); its handles carry it. */
  readonly tableReads: TableReads;
  /**
   * Notifications between the processes that share a database (wakeups.ts): PostgreSQL's
   * LISTEN/NOTIFY. Absent where the engine has none (its nodes poll); its handles carry them.
   */
  readonly wakeups?: Wakeups;
  /** The file the database is, for an engine whose database is a local file; undefined for a server. */
  databaseFile(target: ConnectionTarget): string | undefined;
  /** `changes`, when given, hears of every committed write through the handle (write-watching-dialect.ts). */
  createKysely(
    target: ConnectionTarget,
    opts: { poolSize?: number; changes?: TableChanges },
  ): Kysely<Database>;
  /** Creates the database on its server when missing (needs CREATEDB / CREATE). Returns true if created. */
  createDatabase(target: ConnectionTarget): Promise<boolean>;
  dropDatabase(target: ConnectionTarget): Promise<void>;
  /**
   * Refuses, before anything connects, a database that must exist and cannot be there (a missing
   * SQLite file, which opening would create). A server's missing database is reported when the
   * connection fails (classifyConnectionError).
   */
  requireExisting(target: ConnectionTarget): void;
  describe(db: Kysely<Database>, target: ConnectionTarget): Promise<Dialect>;
  /**
   * A driver's failure to connect or to answer, as a message an admin can act on. The driver's own
   * text is not echoed where it may carry the connection string (and with it the password).
   */
  classifyConnectionError(err: unknown, target: ConnectionTarget): CuttleError;
}

export function createTableSql(dialect: Dialect, table: TableSpec, quote: (s: string) => string): string {
  const cols = table.columns.map(
    (col) => `${quote(col.name)} ${dialect.columnType(col.type)}${col.nullable ? '' : ' NOT NULL'}`,
  );
  cols.push(`PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})`);
  return `CREATE TABLE ${quote(table.name)} (\n  ${cols.join(',\n  ')}\n)${dialect.tableOptions()}`;
}

/**
 * Whether `db` (a pool or one connection of it, such as a snapshot's) streams whole tables in one
 * statement, `COPY (...) TO STDOUT` through Kysely's `stream()` (PostgreSQL's table reads say so).
 */
export function streamsCopyTo(db: Kysely<Database>): boolean {
  return tableReadsOf(db).streamTable !== undefined;
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
