import type { Insertable, Selectable } from 'kysely';
import type { ReleaseRow as ReleaseRowRaw } from '../schema/database-types.js';
export type ReleaseRow = Selectable<ReleaseRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewReleaseRow = Omit<Insertable<ReleaseRowRaw>, 'change_number'>;

export async function insertRelease(db: Db, row: NewReleaseRow): Promise<void> {
  await db
    .insertInto('releases')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function updateReleaseNotes(db: Db, id: string, version: string, notes: string): Promise<void> {
  await db
    .updateTable('releases')
    .set({ version, release_notes: notes, change_number: await nextChangeNumber(db) })
    .where('id', '=', id)
    .execute();
}

export async function getRelease(db: Db, spaceId: string, id: string): Promise<ReleaseRow | undefined> {
  return db
    .selectFrom('releases')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function getReleaseById(db: Db, id: string): Promise<ReleaseRow | undefined> {
  return db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findReleaseByVersion(
  db: Db,
  projectId: string,
  version: string,
): Promise<ReleaseRow | undefined> {
  return db
    .selectFrom('releases')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('version', '=', version)
    .executeTakeFirst();
}

/** Versions of a project's releases, for generating the next `0.0.N`. */
export async function listReleaseVersions(db: Db, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('releases')
    .select('version')
    .where('project_id', '=', projectId)
    .execute();
  return rows.map((r) => r.version);
}

export async function listReleases(
  db: Db,
  spaceId: string,
  f: ListFilter & { projectId?: string; searchByVersion?: string },
): Promise<Page<ReleaseRow>> {
  let q = db.selectFrom('releases').where('space_id', '=', spaceId);
  if (f.projectId) q = q.where('project_id', '=', f.projectId);
  // Newest release first, as Octopus lists them.
  return pageOf<ReleaseRow>(q, { ...f, partialName: f.searchByVersion }, 'version', 'desc');
}

export async function deleteRelease(db: Db, id: string): Promise<void> {
  await db.deleteFrom('releases').where('id', '=', id).execute();
  await addTombstone(db, 'releases', id);
}

export async function listProjectReleaseIds(db: Db, projectId: string): Promise<string[]> {
  const rows = await db.selectFrom('releases').select('id').where('project_id', '=', projectId).execute();
  return rows.map((r) => r.id);
}
