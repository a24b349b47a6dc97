import type { Db } from './list-query.js';

const BATCH = 500;

async function inBatches<T>(ids: string[], load: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += BATCH) out.push(...(await load(ids.slice(i, i + BATCH))));
  return out;
}

export async function dashboardProjects(db: Db, spaceId: string) {
  return db
    .selectFrom('projects')
    .select(['id', 'name', 'slug', 'project_group_id', 'is_disabled', 'lifecycle_id'])
    .where('space_id', '=', spaceId)
    .orderBy('name_normalized')
    .execute();
}

export async function dashboardEnvironments(db: Db, spaceId: string) {
  return db
    .selectFrom('environments')
    .select(['id', 'name', 'sort_order'])
    .where('space_id', '=', spaceId)
    .orderBy('sort_order')
    .orderBy('name_normalized')
    .execute();
}

export async function dashboardGroups(db: Db, spaceId: string) {
  return db
    .selectFrom('project_groups')
    .select(['id', 'name'])
    .where('space_id', '=', spaceId)
    .orderBy('name')
    .execute();
}

/** Every deployment of the space, only the columns that decide the latest per cell. */
export async function deploymentHeads(db: Db, spaceId: string) {
  return db
    .selectFrom('deployments')
    .select(['id', 'project_id', 'environment_id', 'release_id', 'task_id', 'created'])
    .where('space_id', '=', spaceId)
    .execute();
}

export async function releaseVersions(db: Db, ids: string[]) {
  return inBatches(ids, (b) =>
    db.selectFrom('releases').select(['id', 'version']).where('id', 'in', b).execute(),
  );
}

export async function taskStates(db: Db, ids: string[]) {
  return inBatches(ids, (b) =>
    db
      .selectFrom('server_tasks')
      .select([
        'id',
        'state',
        'queue_time',
        'start_time',
        'completed_time',
        'error_message',
        'has_warnings_or_errors',
      ])
      .where('id', 'in', b)
      .execute(),
  );
}
