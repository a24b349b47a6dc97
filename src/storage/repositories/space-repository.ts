import type { Insertable, Selectable } from 'kysely';
import type { SpaceRow as SpaceRowRaw } from '../schema/database-types.js';
export type SpaceRow = Selectable<SpaceRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewSpaceRow = Omit<Insertable<SpaceRowRaw>, 'change_number'>;

export async function insertSpace(db: Db, row: NewSpaceRow): Promise<void> {
  await db
    .insertInto('spaces')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function updateSpace(db: Db, row: NewSpaceRow): Promise<void> {
  await db
    .updateTable('spaces')
    .set({ ...row, change_number: await nextChangeNumber(db) })
    .where('id', '=', row.id)
    .execute();
}

export async function getSpace(db: Db, id: string): Promise<SpaceRow | undefined> {
  return db.selectFrom('spaces').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSpaceByName(db: Db, name: string): Promise<SpaceRow | undefined> {
  return db
    .selectFrom('spaces')
    .selectAll()
    .where('name_normalized', '=', name.toLowerCase())
    .executeTakeFirst();
}

export async function findDefaultSpace(db: Db): Promise<SpaceRow | undefined> {
  const rows = await db.selectFrom('spaces').selectAll().execute();
  return rows.find((r) => r.is_default === true || r.is_default === 1);
}

export async function listSpaces(db: Db, f: ListFilter): Promise<Page<SpaceRow>> {
  return pageOf<SpaceRow>(db.selectFrom('spaces'), f);
}

export async function deleteSpace(db: Db, id: string): Promise<void> {
  await db.deleteFrom('spaces').where('id', '=', id).execute();
  await addTombstone(db, 'spaces', id);
}

const SPACE_TABLES = [
  'deployments',
  'releases',
  'deployment_processes',
  'channels',
  'projects',
  'environments',
  'lifecycles',
  'project_groups',
] as const;

/**
 * Removes every document of a space (tasks and events stay: they are the audit trail).
 * Each removed row leaves a tombstone, like any other delete.
 */
export async function deleteSpaceContents(db: Db, spaceId: string): Promise<void> {
  const sets = await db.selectFrom('variable_sets').select('id').where('space_id', '=', spaceId).execute();
  for (const s of sets) {
    const vars = await db.selectFrom('variables').select('id').where('variable_set_id', '=', s.id).execute();
    await db.deleteFrom('variables').where('variable_set_id', '=', s.id).execute();
    for (const v of vars) await addTombstone(db, 'variables', v.id);
    await db.deleteFrom('variable_sets').where('id', '=', s.id).execute();
    await addTombstone(db, 'variable_sets', s.id);
  }
  for (const table of SPACE_TABLES) {
    const rows = await db.selectFrom(table).select('id').where('space_id', '=', spaceId).execute();
    await db.deleteFrom(table).where('space_id', '=', spaceId).execute();
    for (const r of rows) await addTombstone(db, table, r.id);
  }
}
