import type { ListFilter, Page } from './list-query.js';
import { type Db, pageOf } from './list-query.js';
import type { ServerTaskRow } from './task-view-repository.js';

export interface TaskSearch extends ListFilter {
  spaceId?: string;
  states?: string[];
  kind?: string;
  projectId?: string;
  environmentId?: string;
  /** Queued at or after / before these canonical timestamps. */
  from?: string;
  to?: string;
}

/** The task list with the portal's filters: a deployment's project and environment, and a date range. */
export async function searchTasks(db: Db, f: TaskSearch): Promise<Page<ServerTaskRow>> {
  let q = db.selectFrom('server_tasks');
  if (f.spaceId) q = q.where('space_id', '=', f.spaceId);
  if (f.states?.length) q = q.where('state', 'in', f.states);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.from) q = q.where('queue_time', '>=', f.from);
  if (f.to) q = q.where('queue_time', '<', f.to);
  if (f.projectId || f.environmentId) {
    let d = db.selectFrom('deployments').select('task_id');
    if (f.projectId) d = d.where('project_id', '=', f.projectId);
    if (f.environmentId) d = d.where('environment_id', '=', f.environmentId);
    q = q.where('id', 'in', d);
  }
  return pageOf<ServerTaskRow>(q, f, 'description', 'desc', ['queue_time']);
}
