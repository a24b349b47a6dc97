import type { Insertable, Selectable } from 'kysely';
import type { DeploymentProcessRow as DeploymentProcessRowRaw } from '../schema/database-types.js';
export type DeploymentProcessRow = Selectable<DeploymentProcessRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import type { Db } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewDeploymentProcessRow = Omit<Insertable<DeploymentProcessRowRaw>, 'change_number'>;

export async function insertDeploymentProcess(db: Db, row: NewDeploymentProcessRow): Promise<void> {
  await db
    .insertInto('deployment_processes')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

/**
 * Optimistic concurrency: the update only applies when the stored version is still
 * `expectedVersion`. Returns false when someone else saved in between.
 */
export async function updateDeploymentProcess(
  db: Db,
  id: string,
  expectedVersion: number,
  json: string,
): Promise<boolean> {
  const res = await db
    .updateTable('deployment_processes')
    .set({ json, version: expectedVersion + 1, change_number: await nextChangeNumber(db) })
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function getProjectDeploymentProcess(
  db: Db,
  projectId: string,
): Promise<DeploymentProcessRow | undefined> {
  return db
    .selectFrom('deployment_processes')
    .selectAll()
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

export async function deleteProjectDeploymentProcess(db: Db, projectId: string): Promise<void> {
  const row = await getProjectDeploymentProcess(db, projectId);
  if (!row) return;
  await db.deleteFrom('deployment_processes').where('id', '=', row.id).execute();
  await addTombstone(db, 'deployment_processes', row.id);
}
