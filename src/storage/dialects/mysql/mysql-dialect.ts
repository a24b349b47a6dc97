import { type Kysely, sql } from 'kysely';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import type { LogicalType, TableSpec } from '../../schema/column-types.js';
import type { Database } from '../../schema/database-types.js';
import type { Dialect, PrivilegeReport } from '../dialect.js';
import { mysqlBulkLoad } from './mysql-bulk-load.js';
import { mysqlCapabilities } from './mysql-capabilities.js';
import { mysqlIndexes } from './mysql-indexes.js';
import { mysqlSnapshot } from './mysql-snapshot.js';

const quoteIdent = mysqlCapabilities.quoteIdentifier;
const NEEDED = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'DROP', 'REFERENCES'];

/**
 * MySQL and MariaDB. Tables are utf8mb4 with a binary, no-pad collation: the default
 * utf8mb4_general_ci treats 'abc', 'ABC' and 'Ábc' as equal, which would make a unique index refuse
 * rows another engine accepted. Binary collations also order by bytes, as the other engines do.
 */
export class MysqlDialectInfo implements Dialect {
  readonly engine = 'mysql' as const;
  readonly capabilities = mysqlCapabilities;
  readonly indexes = mysqlIndexes;
  readonly supportsSkipLocked = true;
  readonly supportsReturning = false;
  readonly supportsTransactionalDdl = false;
  readonly singleWriter = false;
  private readonly collation: string;
  constructor(
    readonly serverVersion: string,
    private readonly isMariaDb: boolean,
    private readonly target: ServerTarget,
  ) {
    this.collation = isMariaDb ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
  }
  get label() {
    return `${this.isMariaDb ? 'MariaDB' : 'MySQL'} ${this.serverVersion}`;
  }
  columnType(type: LogicalType) {
    switch (type) {
      case 'id':
      case 'text':
        return 'VARCHAR(255)';
      case 'timestamp':
        return 'CHAR(24)';
      case 'longtext':
      case 'json':
        return 'LONGTEXT';
      case 'int':
        return 'INT';
      case 'bigint':
      case 'int64':
        return 'BIGINT';
      case 'bool':
        return 'TINYINT(1)';
      case 'blob':
        return 'LONGBLOB';
    }
  }
  tableOptions() {
    return ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${this.collation}`;
  }
  async currentUser(db: Kysely<Database>) {
    const r = await sql<{ u: string }>`SELECT CURRENT_USER() AS u`.execute(db);
    return r.rows[0]!.u;
  }
  async checkPrivileges(db: Kysely<Database>): Promise<PrivilegeReport> {
    const r = await sql<{ p: string }>`
      SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES
        WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')
      UNION
      SELECT PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES
        WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')
          AND TABLE_SCHEMA = DATABASE()`.execute(db);
    const have = new Set(r.rows.map((x) => x.p.toUpperCase()));
    const missing = NEEDED.filter((p) => !have.has(p)).map((p) => `${p} on database ${this.target.database}`);
    const user = await this.currentUser(db);
    return { missing, fix: missing.length ? this.grantStatements(user, this.target.database) : [] };
  }
  grantTo(user: string) {
    return this.grantStatements(user, this.target.database);
  }
  private grantStatements(user: string, database: string) {
    const [name, host] = user.includes('@') ? user.split('@') : [user, '%'];
    return [`GRANT ALL PRIVILEGES ON ${quoteIdent(database)}.* TO '${name}'@'${host}';`];
  }
  async listTables(db: Kysely<Database>) {
    const r = await sql<{
      name: string;
    }>`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`.execute(db);
    return r.rows.map((x) => x.name);
  }
  async freeSpace() {
    return undefined;
  }
  async databaseSize(db: Kysely<Database>) {
    const r = await sql<{
      s: string | number | null;
    }>`SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS s FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`.execute(
      db,
    );
    return Number(r.rows[0]?.s ?? 0);
  }
  bulkLoadText(table: TableSpec, text: TextSource, opts: BulkLoadOptions) {
    return mysqlBulkLoad(this.target, table, text, opts);
  }
  withSnapshot<T>(db: Kysely<Database>, read: (snapshot: Kysely<Database>) => Promise<T>) {
    return mysqlSnapshot(db, read);
  }
}
