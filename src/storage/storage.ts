import { type Kysely, sql } from 'kysely';
import {
  type ConnectionTarget,
  describeTarget,
  type Engine,
  passwordOf,
} from '../config/connection-string.js';
import { registerSecret } from '../lib/redact.js';
import { classifyConnectionError } from './connection-errors.js';
import type { Dialect, EngineCapabilities } from './dialects/dialect.js';
import { dialectFactory } from './dialects/registry.js';
import { PortableWritesPlugin } from './portable-writes.js';
import type { Database } from './schema/database-types.js';
import { TableChanges } from './table-changes.js';

export { dialectFactory } from './dialects/registry.js';

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

  /** What the engine is known to do (dialects/dialect.ts). */
  get capabilities(): EngineCapabilities {
    return this.dialect.capabilities;
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
  registerSecret(passwordOf(target));
  const factory = dialectFactory(target.engine);
  let created = false;
  if (opts.create) {
    try {
      created = await factory.createDatabase(target);
    } catch (err) {
      throw classifyConnectionError(err, target);
    }
  } else {
    factory.requireExisting(target);
  }
  const changes = new TableChanges();
  const db = factory
    .createKysely(target, { poolSize: opts.poolSize, changes })
    .withPlugin(new PortableWritesPlugin());
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
