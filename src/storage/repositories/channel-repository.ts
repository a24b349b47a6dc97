import type { Insertable, Selectable } from 'kysely';
import type { ChannelRow as ChannelRowRaw } from '../schema/database-types.js';
export type ChannelRow = Selectable<ChannelRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import type { Db } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export async function insertChannel(
  db: Db,
  row: Omit<Insertable<ChannelRowRaw>, 'change_number'>,
): Promise<void> {
  await db
    .insertInto('channels')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function listProjectChannels(db: Db, projectId: string): Promise<ChannelRow[]> {
  return db.selectFrom('channels').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
}

export async function deleteProjectChannels(db: Db, projectId: string): Promise<void> {
  const rows = await listProjectChannels(db, projectId);
  await db.deleteFrom('channels').where('project_id', '=', projectId).execute();
  for (const r of rows) await addTombstone(db, 'channels', r.id);
}
