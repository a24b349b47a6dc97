import type { Insertable, Selectable } from 'kysely';
import type { DeploymentRow as DeploymentRowRaw } from '../schema/database-types.js';
export type DeploymentRow = Selectable<DeploymentRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';

export type NewDeploymentRow = Omit<Insertable<DeploymentRowRaw>, 'change_number'>;

export async function insertDeployment(db: Db, row: NewDeploymentRow): Promise<void> {
  await db
    .insertInto('deployments')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function getDeployment(db: Db, id: string): Promise<DeploymentRow | undefined> {
  return db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findDeploymentByTask(db: Db, taskId: string): Promise<DeploymentRow | undefined> {
  return db.selectFrom('deployments').selectAll().where('task_id', '=', taskId).executeTakeFirst();
}

export interface DeploymentFilter extends ListFilter {
  projects?: string[];
  environments?: string[];
  releaseId?: string;
}

export async function listDeployments(
  db: Db,
  spaceId: string,
  f: DeploymentFilter,
): Promise<Page<DeploymentRow>> {
  let q = db.selectFrom('deployments').where('space_id', '=', spaceId);
  if (f.projects?.length) q = q.where('project_id', 'in', f.projects);
  if (f.environments?.length) q = q.where('environment_id', 'in', f.environments);
  if (f.releaseId) q = q.where('release_id', '=', f.releaseId);
  return pageOf<DeploymentRow>(q, f, 'name', 'desc');
}

export async function deleteDeploymentsOfRelease(db: Db, releaseId: string): Promise<void> {
  const rows = await db.selectFrom('deployments').select('id').where('release_id', '=', releaseId).execute();
  await db.deleteFrom('deployments').where('release_id', '=', releaseId).execute();
  for (const r of rows) await addTombstone(db, 'deployments', r.id);
}
