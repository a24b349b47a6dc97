import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import type { ConnectionTarget, ServerTarget } from '../../config/connection-string.js';
import type { LogicalType } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';
import { DateParamPlugin } from './date-param-plugin.js';
import type { Dialect, DialectFactory, PrivilegeReport } from './dialect.js';
import { watchWrites } from './write-watching-dialect.js';

/**
 * MySQL and MariaDB. Tables are utf8mb4 with a binary, no-pad collation: the default
 * utf8mb4_general_ci treats 'abc', 'ABC' and 'Ábc' as equal, which would make a unique index refuse
 * rows another engine accepted. Binary collations also order by bytes, as the other engines do.
 */
/** `database: null` connects to no database (to create or drop one). */
export function mysqlOptions(t: ServerTarget, database: string | null = t.database): mysql.PoolOptions {
  return {
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: database ?? undefined,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
    timezone: 'Z',
    connectTimeout: 10_000,
    ssl: t.params.sslmode && t.params.sslmode !== 'disable' ? {} : undefined,
  };
}

function asServer(t: ConnectionTarget): ServerTarget {
  if (t.engine !== 'mysql') throw new Error('not mysql');
  return t;
}

const quoteIdent = (s: string) => `\`${s.replace(/`/g, '``')}\``;
const NEEDED = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'DROP', 'REFERENCES'];

class MysqlDialectInfo implements Dialect {
  readonly engine = 'mysql' as const;
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
  grantStatements(user: string, database: string) {
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
}

async function withAdmin<T>(t: ServerTarget, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = mysql.createConnection(mysqlOptions(t, null));
  try {
    await new Promise<void>((res, rej) => conn.connect((e) => (e ? rej(e) : res())));
    return await fn(conn);
  } finally {
    conn.destroy();
  }
}

function query(c: mysql.Connection, text: string, params: unknown[] = []): Promise<unknown[]> {
  return new Promise((res, rej) => c.query(text, params, (e, rows) => (e ? rej(e) : res(rows as unknown[]))));
}

export const mysqlFactory: DialectFactory = {
  engine: 'mysql',
  createKysely(target, opts) {
    const t = asServer(target);
    const pool = mysql.createPool({ ...mysqlOptions(t), connectionLimit: opts.poolSize ?? 10 });
    const dialect = new MysqlDialect({ pool });
    return new Kysely<Database>({
      dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect,
      plugins: [new DateParamPlugin()],
    });
  },
  async createDatabase(target) {
    const t = asServer(target);
    return withAdmin(t, async (c) => {
      const rows = await query(
        c,
        'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [t.database],
      );
      if (rows.length) return false;
      const version = String(((await query(c, 'SELECT VERSION() AS v')) as { v: string }[])[0]!.v);
      const coll = version.includes('MariaDB') ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
      await query(c, `CREATE DATABASE ${quoteIdent(t.database)} CHARACTER SET utf8mb4 COLLATE ${coll}`);
      return true;
    });
  },
  async dropDatabase(target) {
    const t = asServer(target);
    await withAdmin(t, async (c) => {
      await query(c, `DROP DATABASE IF EXISTS ${quoteIdent(t.database)}`);
    });
  },
  async describe(db, target) {
    const r = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
    const v = r.rows[0]!.v;
    return new MysqlDialectInfo(v.split('-')[0]!, v.includes('MariaDB'), asServer(target));
  },
};
