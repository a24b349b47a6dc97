import type { Insertable, Selectable } from 'kysely';
import type { ProjectGroupRow as ProjectGroupRowRaw } from '../schema/database-types.js';
export type ProjectGroupRow = Selectable<ProjectGroupRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';

export type NewProjectGroupRow = Omit<Insertable<ProjectGroupRowRaw>, 'change_number'>;

export async function insertProjectGroup(db: Db, row: NewProjectGroupRow): Promise<void> {
  await db
    .insertInto('project_groups')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function getProjectGroup(
  db: Db,
  spaceId: string,
  id: string,
): Promise<ProjectGroupRow | undefined> {
  return db
    .selectFrom('project_groups')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listProjectGroups(
  db: Db,
  spaceId: string,
  f: ListFilter,
): Promise<Page<ProjectGroupRow>> {
  return pageOf<ProjectGroupRow>(db.selectFrom('project_groups').where('space_id', '=', spaceId), f);
}

export async function countProjectGroups(db: Db, spaceId: string): Promise<number> {
  const r = await db
    .selectFrom('project_groups')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('space_id', '=', spaceId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
