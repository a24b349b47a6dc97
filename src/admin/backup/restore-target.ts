import { sql } from 'kysely';
import { nowIso } from '../../lib/clock.js';
import { PreconditionError } from '../../lib/errors.js';
import { migrateToVersion, type SchemaStatus, schemaStatus } from '../../storage/migrator.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Storage } from '../../storage/storage.js';
import { hashTableMatching } from '../../storage/table-hash.js';
import { RESTORE_MARKER, type RestoreMarker, readRestoreMarker } from './restore-marker.js';

const MIGRATION_TABLES = ['cuttle_migrations', 'cuttle_migration_lock'];

export interface TargetState {
  status: SchemaStatus;
  /** Tables that belong to no Cuttle schema: never dropped, even with --overwrite. */
  foreign: string[];
  /** Cuttle tables present (what --overwrite drops). */
  ours: string[];
  marker?: RestoreMarker;
  empty: boolean;
}

export async function inspectTarget(storage: Storage, knownTables: string[]): Promise<TargetState> {
  const status = await schemaStatus(storage);
  const tables = await storage.dialect.listTables(storage.db);
  const known = new Set([...knownTables, ...MIGRATION_TABLES]);
  const ours = tables.filter((t) => known.has(t));
  const foreign = tables.filter((t) => !known.has(t));
  let marker: RestoreMarker | undefined;
  if (ours.includes('instance_metadata')) marker = await readRestoreMarker(storage.db).catch(() => undefined);
  return { status, foreign, ours, marker, empty: tables.length === 0 };
}

/** Checked before anything is written: the target user must be able to create the schema. */
export async function requireTargetPrivileges(storage: Storage): Promise<void> {
  const p = await storage.dialect.checkPrivileges(storage.db);
  if (p.missing.length) {
    throw new PreconditionError(
      `The database user cannot restore into ${storage.description}: privileges are missing.`,
      {
        code: 'DATABASE_PRIVILEGES_MISSING',
        details: p.missing,
        hints: ['A privileged user can fix it with:', ...p.fix.map((s) => `  ${s}`)],
      },
    );
  }
}

/** Drops Cuttle's tables (and only those). */
export async function wipeTarget(storage: Storage, knownTables: string[]): Promise<void> {
  const state = await inspectTarget(storage, knownTables);
  for (const t of state.ours) await sql`DROP TABLE ${sql.table(t)}`.execute(storage.db);
}

/**
 * Builds the archive's schema version on an empty target, empties what the migrations seeded (the
 * archive has its own key_allocations), and writes the restore-in-progress marker before any row
 * is loaded.
 */
export async function prepareSchema(
  storage: Storage,
  version: number,
  tables: TableSpec[],
  marker: RestoreMarker,
): Promise<void> {
  await migrateToVersion(storage, version);
  for (const t of [...tables].reverse()) await sql`DELETE FROM ${sql.table(t.name)}`.execute(storage.db);
  await storage.db
    .insertInto('instance_metadata')
    .values({ key: RESTORE_MARKER, value: JSON.stringify(marker), updated: nowIso(), change_number: 0 })
    .execute();
}

export async function removeMarker(storage: Storage): Promise<void> {
  await storage.db.deleteFrom('instance_metadata').where('key', '=', RESTORE_MARKER).execute();
}

/**
 * Checks a restored table against the archive's key-order digest, without the restore marker row.
 * The table was loaded in key order into an empty table, so it is read back in natural order (no
 * index, no sort) and only hashed in key order if that differs (hashTableMatching).
 */
export async function checkRestoredTable(
  storage: Storage,
  table: TableSpec,
  expected: { rows: number; sha256: string },
): Promise<{ rows: number; sha256: string; matches: boolean }> {
  return hashTableMatching(
    storage.db,
    table,
    { ...expected, order: 'key' },
    async () => expected,
    table.name === 'instance_metadata' ? { skipKey: RESTORE_MARKER } : {},
  );
}
