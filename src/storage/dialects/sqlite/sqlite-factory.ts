import fs from 'node:fs';
import path from 'node:path';
import { Kysely, sql } from 'kysely';
import type { ConnectionTarget, SqliteTarget } from '../../../config/connection-string.js';
import { PreconditionError } from '../../../lib/errors.js';
import type { Database } from '../../schema/database-types.js';
import type { DialectFactory } from '../dialect.js';
import { watchWrites } from '../write-watching-dialect.js';
import { sqliteCapabilities } from './sqlite-capabilities.js';
import { sqliteConnectionError } from './sqlite-connection-errors.js';
import { SqliteDialectInfo } from './sqlite-dialect.js';
import { openSqliteHandle, sqliteKyselyDialect } from './sqlite-driver.js';
import { sqliteTableReads } from './sqlite-table-reads.js';

function asFile(t: ConnectionTarget): SqliteTarget {
  if (t.engine !== 'sqlite') throw new Error('not sqlite');
  return t;
}

/** SQLite: the database is one local file (better-sqlite3, WAL mode). */
export const sqliteFactory: DialectFactory = {
  engine: 'sqlite',
  capabilities: sqliteCapabilities,
  tableReads: sqliteTableReads,
  databaseFile: (target) => asFile(target).file,
  createKysely(target, opts) {
    const { file } = asFile(target);
    const dialect = sqliteKyselyDialect(() => openSqliteHandle(file));
    return new Kysely<Database>({ dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect });
  },
  async createDatabase(target) {
    const { file } = asFile(target);
    if (fs.existsSync(file)) return false;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    openSqliteHandle(file).close();
    return true;
  },
  async dropDatabase(target) {
    const { file } = asFile(target);
    for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(file + suffix, { force: true });
  },
  requireExisting(target) {
    const { file } = asFile(target);
    if (!fs.existsSync(file)) {
      throw new PreconditionError(`The SQLite database ${file} does not exist.`, {
        code: 'DATABASE_MISSING',
        hints: ['Check the path, or create it with `cuttle database create`.'],
      });
    }
  },
  async describe(db, target) {
    const r = await sql<{ v: string }>`SELECT sqlite_version() AS v`.execute(db);
    return new SqliteDialectInfo(r.rows[0]!.v, asFile(target).file);
  },
  classifyConnectionError: (err, target) => sqliteConnectionError(err, asFile(target).file),
};
