import type { Insertable, Selectable } from 'kysely';
import type { EnvironmentRow as EnvironmentRowRaw } from '../schema/database-types.js';
export type EnvironmentRow = Selectable<EnvironmentRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewEnvironmentRow = Omit<Insertable<EnvironmentRowRaw>, 'change_number'>;

export async function insertEnvironment(db: Db, row: NewEnvironmentRow): Promise<void> {
  await db
    .insertInto('environments')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function updateEnvironment(db: Db, row: NewEnvironmentRow): Promise<void> {
  await db
    .updateTable('environments')
    .set({ ...row, change_number: await nextChangeNumber(db) })
    .where('id', '=', row.id)
    .execute();
}

export async function getEnvironment(
  db: Db,
  spaceId: string,
  id: string,
): Promise<EnvironmentRow | undefined> {
  return db
    .selectFrom('environments')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findEnvironmentByName(
  db: Db,
  spaceId: string,
  name: string,
): Promise<EnvironmentRow | undefined> {
  return db
    .selectFrom('environments')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('name_normalized', '=', name.toLowerCase())
    .executeTakeFirst();
}

export async function listEnvironments(
  db: Db,
  spaceId: string,
  f: ListFilter,
): Promise<Page<EnvironmentRow>> {
  return pageOf<EnvironmentRow>(db.selectFrom('environments').where('space_id', '=', spaceId), f);
}

export async function maxEnvironmentSortOrder(db: Db, spaceId: string): Promise<number> {
  const r = await db
    .selectFrom('environments')
    .select((eb) => eb.fn.max('sort_order').as('m'))
    .where('space_id', '=', spaceId)
    .executeTakeFirst();
  return r?.m === null || r?.m === undefined ? -1 : Number(r.m);
}

export async function deleteEnvironment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('environments').where('id', '=', id).execute();
  await addTombstone(db, 'environments', id);
}
