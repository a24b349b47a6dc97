import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import { getMetaJson, META, setMeta } from '../storage/repositories/metadata-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { writeEvent } from './event-service.js';

/**
 * Maintenance mode is instance-wide and lives in the database (instance_metadata 'maintenance'),
 * so the CLI can toggle it with or without a running server and every node sees the same value.
 */
export interface MaintenanceState {
  IsInMaintenanceMode: boolean;
  LastModifiedBy: string | null;
  LastModifiedOn: string | null;
}

const MAINTENANCE_OFF: MaintenanceState = {
  IsInMaintenanceMode: false,
  LastModifiedBy: null,
  LastModifiedOn: null,
};

export async function getMaintenance(db: Kysely<Database>): Promise<MaintenanceState> {
  const stored = await getMetaJson<Partial<MaintenanceState>>(db, META.maintenance);
  if (!stored) return { ...MAINTENANCE_OFF };
  return {
    IsInMaintenanceMode: stored.IsInMaintenanceMode === true,
    LastModifiedBy: stored.LastModifiedBy ?? null,
    LastModifiedOn: stored.LastModifiedOn ?? null,
  };
}

export type ChangedBy = string | { userId?: string | null; username: string };

/**
 * Turns maintenance mode on or off and writes a `Modified` event (as Octopus does:
 * "Maintenance Configuration was changed."), both in one transaction.
 */
export async function setMaintenance(
  db: Kysely<Database>,
  on: boolean,
  by: ChangedBy,
): Promise<MaintenanceState> {
  const who = typeof by === 'string' ? { userId: null, username: by } : by;
  const state: MaintenanceState = {
    IsInMaintenanceMode: on,
    LastModifiedBy: who.username,
    LastModifiedOn: nowIso(),
  };
  const apply = async (tx: Kysely<Database>) => {
    await setMeta(tx, META.maintenance, JSON.stringify(state));
    await writeEvent(tx, {
      category: 'Modified',
      message: `Maintenance Configuration was changed: maintenance mode is now ${on ? 'on' : 'off'}.`,
      relatedDocumentIds: [],
      userId: who.userId ?? null,
      username: who.username,
      details: { IsInMaintenanceMode: on },
    });
  };
  if (db.isTransaction) await apply(db);
  else await db.transaction().execute(apply);
  return state;
}
