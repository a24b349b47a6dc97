import { type Kysely, sql } from 'kysely';
import { type ConnectionTarget, describeTarget, type Engine } from '../config/connection-string.js';
import { PreconditionError } from '../lib/errors.js';
import { registerSecret } from '../lib/redact.js';
import { classifyConnectionError } from './connection-errors.js';
import type { Dialect, DialectFactory } from './dialects/dialect.js';
import { mysqlFactory } from './dialects/mysql-dialect.js';
import { postgresFactory } from './dialects/postgres-dialect.js';
import { sqliteFactory } from './dialects/sqlite-dialect.js';
import type { Database } from './schema/database-types.js';
import { TableChanges } from './table-changes.js';

const FACTORIES: Record<Engine, DialectFactory> = {
  sqlite: sqliteFactory,
  postgres: postgresFactory,
  mysql: mysqlFactory,
};

export function dialectFactory(engine: Engine): DialectFactory {
  return FACTORIES[engine];
}

/**
 * One open database: the Kysely handle, what the engine can do, where it is (printable), and the
 * versions of its tables that move with each write committed through `db` (for caches).
 */
export class Storage {
  /** Whether openStorage created the database just now (OpenOptions.create): a failed restore drops it again. */
  createdDatabase = false;

  constructor(
    readonly target: ConnectionTarget,
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly changes: TableChanges,
  ) {}

  get engine(): Engine {
    return this.target.engine;
  }

  get description(): string {
    return describeTarget(this.target);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

export interface OpenOptions {
  /** Create the database (file, or database on the server) when it does not exist. */
  create?: boolean;
  poolSize?: number;
}

/** Opens and probes a database; every connection failure becomes a clear PreconditionError. */
export async function openStorage(target: ConnectionTarget, opts: OpenOptions = {}): Promise<Storage> {
  if (target.engine !== 'sqlite') registerSecret(target.password);
  const factory = FACTORIES[target.engine];
  let created = false;
  if (opts.create) {
    try {
      created = await factory.createDatabase(target);
    } catch (err) {
      throw classifyConnectionError(err, target);
    }
  } else if (target.engine === 'sqlite') {
    const fs = await import('node:fs');
    if (!fs.existsSync(target.file)) {
      throw new PreconditionError(`The SQLite database ${target.file} does not exist.`, {
        hints: ['Check the path, or create it with `cuttle database create`.'],
      });
    }
  }
  const changes = new TableChanges();
  const db = factory.createKysely(target, { poolSize: opts.poolSize, changes });
  try {
    await sql`SELECT 1`.execute(db);
    const dialect = await factory.describe(db, target);
    const storage = new Storage(target, db, dialect, changes);
    storage.createdDatabase = created;
    return storage;
  } catch (err) {
    await db.destroy().catch(() => {});
    throw classifyConnectionError(err, target);
  }
}
