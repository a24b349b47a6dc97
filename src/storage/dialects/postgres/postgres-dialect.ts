import { type Kysely, sql } from 'kysely';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import type { LogicalType, TableSpec } from '../../schema/column-types.js';
import type { Database } from '../../schema/database-types.js';
import type { Dialect, PrivilegeReport } from '../dialect.js';
import { postgresBulkLoad } from './postgres-bulk-load.js';
import { postgresCapabilities } from './postgres-capabilities.js';
import { postgresIndexes } from './postgres-indexes.js';
import { postgresSnapshot } from './postgres-snapshot.js';

const quoteIdent = postgresCapabilities.quoteIdentifier;

/**
 * PostgreSQL. Key and short-text columns use COLLATE "C" so indexes order bytewise, exactly as
 * SQLite and MySQL's binary collations do: a table read in primary-key order comes out in the same
 * order on every engine, which is what lets two engines' content hashes be compared.
 */
const TYPES: Record<LogicalType, string> = {
  id: 'text COLLATE "C"',
  text: 'text COLLATE "C"',
  longtext: 'text',
  json: 'text',
  int: 'integer',
  bigint: 'bigint',
  int64: 'bigint',
  bool: 'boolean',
  timestamp: 'text COLLATE "C"',
  blob: 'bytea',
};

export class PostgresDialectInfo implements Dialect {
  readonly engine = 'postgres' as const;
  readonly capabilities = postgresCapabilities;
  readonly indexes = postgresIndexes;
  readonly supportsSkipLocked = true;
  readonly supportsReturning = true;
  readonly supportsTransactionalDdl = true;
  readonly singleWriter = false;
  constructor(
    readonly serverVersion: string,
    private readonly target: ServerTarget,
  ) {}
  get label() {
    return `PostgreSQL ${this.serverVersion}`;
  }
  columnType(type: LogicalType) {
    return TYPES[type];
  }
  tableOptions() {
    return '';
  }
  async currentUser(db: Kysely<Database>) {
    const r = await sql<{ u: string }>`SELECT current_user AS u`.execute(db);
    return r.rows[0]!.u;
  }
  async checkPrivileges(db: Kysely<Database>): Promise<PrivilegeReport> {
    const r = await sql<{
      u: string;
      db_create: boolean;
      schema_create: boolean;
      schema_usage: boolean;
      foreign_tables: string | number;
    }>`SELECT current_user AS u,
              has_database_privilege(current_database(), 'CREATE') AS db_create,
              has_schema_privilege('public', 'CREATE') AS schema_create,
              has_schema_privilege('public', 'USAGE') AS schema_usage,
              (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
                 AND tableowner <> current_user
                 AND NOT pg_has_role(current_user, tableowner, 'MEMBER')) AS foreign_tables`.execute(db);
    const row = r.rows[0]!;
    const missing: string[] = [];
    if (!row.schema_usage) missing.push('USAGE on schema public');
    if (!row.schema_create) missing.push('CREATE on schema public (create tables and indexes)');
    if (!row.db_create) missing.push(`CREATE on database ${this.target.database}`);
    if (Number(row.foreign_tables) > 0) {
      missing.push(
        `ownership of ${row.foreign_tables} table(s) in schema public (needed to upgrade the schema)`,
      );
    }
    return {
      missing,
      fix: missing.length ? this.grantStatements(row.u, this.target.database) : [],
    };
  }
  grantTo(user: string) {
    return this.grantStatements(user, this.target.database);
  }
  private grantStatements(user: string, database: string) {
    return [
      `ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(user)};`,
      `GRANT ALL ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(user)};`,
      `-- connected to ${database}:`,
      `ALTER SCHEMA public OWNER TO ${quoteIdent(user)};`,
      `GRANT ALL ON SCHEMA public TO ${quoteIdent(user)};`,
    ];
  }
  async listTables(db: Kysely<Database>) {
    const r = await sql<{
      name: string;
    }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`.execute(db);
    return r.rows.map((x) => x.name);
  }
  async freeSpace() {
    return undefined;
  }
  async databaseSize(db: Kysely<Database>) {
    const r = await sql<{ s: string | number }>`SELECT pg_database_size(current_database()) AS s`.execute(db);
    return Number(r.rows[0]!.s);
  }
  bulkLoadText(table: TableSpec, text: TextSource, opts: BulkLoadOptions) {
    return postgresBulkLoad(this.target, table, text, opts);
  }
  withSnapshot<T>(db: Kysely<Database>, read: (snapshot: Kysely<Database>) => Promise<T>) {
    return postgresSnapshot(db, read);
  }
}
