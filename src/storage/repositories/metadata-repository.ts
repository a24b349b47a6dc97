import type { Kysely } from 'kysely';
import { nowIso } from '../../lib/clock.js';
import type { Database } from '../schema/database-types.js';
import { nextChangeNumber } from './id-allocator.js';

/**
 * Instance-wide facts that live in the database (so every node and every copy sees them):
 * the master-key canary, the instance id, maintenance mode, fence markers, the replica marker.
 */
export const META = {
  instanceId: 'instance-id',
  installationId: 'installation-id',
  canary: 'master-key-canary',
  maintenance: 'maintenance',
  fence: 'fence',
  replica: 'replica',
  backupSchedule: 'backup-schedule',
} as const;

export async function getMeta(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('instance_metadata')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

export async function getMetaJson<T>(db: Kysely<Database>, key: string): Promise<T | undefined> {
  const v = await getMeta(db, key);
  return v === undefined ? undefined : (JSON.parse(v) as T);
}

export async function setMeta(db: Kysely<Database>, key: string, value: string): Promise<void> {
  const change_number = await nextChangeNumber(db);
  const updated = nowIso();
  const res = await db
    .updateTable('instance_metadata')
    .set({ value, updated, change_number })
    .where('key', '=', key)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) {
    await db.insertInto('instance_metadata').values({ key, value, updated, change_number }).execute();
  }
}

export async function deleteMeta(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('instance_metadata').where('key', '=', key).execute();
}
