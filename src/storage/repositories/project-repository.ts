import type { Insertable, Selectable } from 'kysely';
import type { ProjectRow as ProjectRowRaw } from '../schema/database-types.js';
export type ProjectRow = Selectable<ProjectRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewProjectRow = Omit<Insertable<ProjectRowRaw>, 'change_number'>;

export async function insertProject(db: Db, row: NewProjectRow): Promise<void> {
  await db
    .insertInto('projects')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function updateProject(db: Db, row: NewProjectRow): Promise<void> {
  await db
    .updateTable('projects')
    .set({ ...row, change_number: await nextChangeNumber(db) })
    .where('id', '=', row.id)
    .execute();
}

/**
 * Takes the project row's write lock until the transaction ends (a no-op update: PostgreSQL and
 * MySQL lock the row, SQLite takes its single writer lock), so that writers that derive a value
 * from the project's other rows (the next generated release version) run one after another.
 */
export async function lockProjectRow(db: Db, id: string): Promise<void> {
  await db
    .updateTable('projects')
    .set((eb) => ({ id: eb.ref('id') }))
    .where('id', '=', id)
    .execute();
}

export async function getProject(db: Db, spaceId: string, id: string): Promise<ProjectRow | undefined> {
  return db
    .selectFrom('projects')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Octopus accepts a project's Id, Slug or Name wherever one is named. */
export async function findProject(
  db: Db,
  spaceId: string,
  idOrSlugOrName: string,
): Promise<ProjectRow | undefined> {
  const v = idOrSlugOrName.trim();
  return db
    .selectFrom('projects')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where((eb) =>
      eb.or([
        eb('id', '=', v),
        eb('slug', '=', v.toLowerCase()),
        eb('name_normalized', '=', v.toLowerCase()),
      ]),
    )
    .executeTakeFirst();
}

export async function listProjects(db: Db, spaceId: string, f: ListFilter): Promise<Page<ProjectRow>> {
  return pageOf<ProjectRow>(db.selectFrom('projects').where('space_id', '=', spaceId), f);
}

export async function deleteProject(db: Db, id: string): Promise<void> {
  await db.deleteFrom('projects').where('id', '=', id).execute();
  await addTombstone(db, 'projects', id);
}

/** What a project keeps in its json column. */
export interface ProjectSettings {
  RetryOnNodeFailure: boolean;
}

export function projectSettings(json: string | null | undefined): ProjectSettings {
  let v: Partial<ProjectSettings> = {};
  try {
    v = json ? (JSON.parse(json) as Partial<ProjectSettings>) : {};
  } catch {}
  return { RetryOnNodeFailure: v.RetryOnNodeFailure === true };
}
