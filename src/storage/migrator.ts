import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { PreconditionError } from '../lib/errors.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-task-list-index.js';
import * as m0003 from './migrations/0003-portal-sessions.js';
import type { Storage } from './storage.js';

/**
 * Schema versions. The version is the number of applied migrations; the list below is the code's
 * knowledge. A database with a migration this code does not know was upgraded by a newer Cuttle,
 * and nothing may run against it (the newer code may store data this code would damage).
 */
type Up = (db: Kysely<unknown>, dialect: Storage['dialect'], quote: (s: string) => string) => Promise<void>;
const MIGRATIONS: [string, Up][] = [
  ['0001-initial', m0001.up],
  ['0002-task-list-index', m0002.up],
  ['0003-portal-sessions', m0003.up],
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;
const TABLE = 'cuttle_migrations';
const LOCK_TABLE = 'cuttle_migration_lock';

export type SchemaState = 'empty' | 'older' | 'current' | 'newer' | 'foreign';

export interface SchemaStatus {
  state: SchemaState;
  version: number;
  latest: number;
  applied: string[];
  /** Tables that are not Cuttle's (only reported when state is 'foreign'). */
  foreignTables: string[];
}

export async function schemaStatus(storage: Storage): Promise<SchemaStatus> {
  const tables = await storage.dialect.listTables(storage.db);
  const base = { latest: LATEST_SCHEMA_VERSION, foreignTables: [] as string[] };
  if (!tables.includes(TABLE)) {
    if (tables.length === 0) return { ...base, state: 'empty', version: 0, applied: [] };
    return { ...base, state: 'foreign', version: 0, applied: [], foreignTables: tables.slice(0, 10) };
  }
  const r = await sql<{ name: string }>`SELECT name FROM ${sql.table(TABLE)} ORDER BY name`.execute(
    storage.db,
  );
  const applied = r.rows.map((x) => x.name);
  const known = new Set(MIGRATIONS.map(([n]) => n));
  const unknown = applied.filter((n) => !known.has(n));
  const state: SchemaState = unknown.length
    ? 'newer'
    : applied.length < LATEST_SCHEMA_VERSION
      ? 'older'
      : 'current';
  return { ...base, state, version: applied.length, applied };
}

export function schemaTooNew(status: SchemaStatus, where: string): PreconditionError {
  return new PreconditionError(
    `The database at ${where} has schema version ${status.version}, newer than this Cuttle knows (${status.latest}).`,
    {
      code: 'DATABASE_SCHEMA_NEWER',
      hints: [
        'Upgrade Cuttle to the version that last upgraded this database; running older code could damage it.',
      ],
    },
  );
}

/** Applies pending migrations under the engine's migration lock (safe when several nodes start at once). */
export async function migrateToLatest(storage: Storage): Promise<{ from: number; to: number }> {
  return migrateToVersion(storage, LATEST_SCHEMA_VERSION);
}

/** Applies migrations up to `version` (a restore builds the schema its archive was taken at, then upgrades). */
export async function migrateToVersion(
  storage: Storage,
  version: number,
): Promise<{ from: number; to: number }> {
  if (version < 1 || version > LATEST_SCHEMA_VERSION) throw new Error(`No schema version ${version}`);
  const before = await schemaStatus(storage);
  if (before.state === 'newer') throw schemaTooNew(before, storage.description);
  if (before.state === 'foreign') {
    throw new PreconditionError(
      `The database at ${storage.description} holds tables that are not Cuttle's.`,
      {
        code: 'DATABASE_FOREIGN_TABLES',
        details: before.foreignTables,
        hints: ['Give Cuttle a database of its own.'],
      },
    );
  }
  const quote = storage.capabilities.quoteIdentifier;
  const migrations: Record<string, Migration> = {};
  for (const [name, up] of MIGRATIONS) {
    migrations[name] = { up: (db) => up(db, storage.dialect, quote) };
  }
  const migrator = new Migrator({
    db: storage.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: TABLE,
    migrationLockTableName: LOCK_TABLE,
  });
  const { error } =
    version === LATEST_SCHEMA_VERSION
      ? await migrator.migrateToLatest()
      : await migrator.migrateTo(MIGRATIONS[version - 1]![0]);
  if (error) throw error;
  return { from: before.version, to: version };
}
