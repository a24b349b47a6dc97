import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { Database } from '../../schema/database-types.js';
import { DateParamPlugin } from '../date-param-plugin.js';
import type { DialectFactory } from '../dialect.js';
import { withTableReads } from '../table-reads.js';
import { watchWrites } from '../write-watching-dialect.js';
import { mysqlCapabilities } from './mysql-capabilities.js';
import { mysqlConnectionError } from './mysql-connection-errors.js';
import { MysqlDialectInfo } from './mysql-dialect.js';
import { asMysql, mysqlOptions } from './mysql-options.js';
import { mysqlTableReads } from './mysql-table-reads.js';

const quoteIdent = mysqlCapabilities.quoteIdentifier;

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

/** MySQL and MariaDB: a mysql2 pool, LOAD DATA LOCAL in. */
export const mysqlFactory: DialectFactory = {
  engine: 'mysql',
  capabilities: mysqlCapabilities,
  tableReads: mysqlTableReads,
  databaseFile: () => undefined,
  createKysely(target, opts) {
    const t = asMysql(target);
    const pool = mysql.createPool({ ...mysqlOptions(t), connectionLimit: opts.poolSize ?? 10 });
    const dialect = withTableReads(new MysqlDialect({ pool }), mysqlTableReads);
    return new Kysely<Database>({
      dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect,
      plugins: [new DateParamPlugin()],
    });
  },
  async createDatabase(target) {
    const t = asMysql(target);
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
    const t = asMysql(target);
    await withAdmin(t, async (c) => {
      await query(c, `DROP DATABASE IF EXISTS ${quoteIdent(t.database)}`);
    });
  },
  requireExisting() {},
  async describe(db, target) {
    const r = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
    const v = r.rows[0]!.v;
    return new MysqlDialectInfo(v.split('-')[0]!, v.includes('MariaDB'), asMysql(target));
  },
  classifyConnectionError: (err, target) => mysqlConnectionError(err, asMysql(target)),
};
