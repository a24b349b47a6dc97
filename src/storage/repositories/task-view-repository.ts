import type { Selectable } from 'kysely';
import type {
  ServerTaskRow as ServerTaskRowRaw,
  TaskLogChunkRow as TaskLogChunkRowRaw,
} from '../schema/database-types.js';
export type ServerTaskRow = Selectable<ServerTaskRowRaw>;
export type TaskLogChunkRow = Selectable<TaskLogChunkRowRaw>;

import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';

/**
 * Read side of server tasks for the API (the queue in tasks/ owns every write). Space-scoped
 * lists include instance-wide tasks (space_id NULL) only on the instance-wide route.
 */
export interface TaskFilter extends ListFilter {
  spaceId?: string;
  states?: string[];
  kind?: string;
}

export async function listTasks(db: Db, f: TaskFilter): Promise<Page<ServerTaskRow>> {
  let q = db.selectFrom('server_tasks');
  if (f.spaceId) q = q.where('space_id', '=', f.spaceId);
  if (f.states?.length) q = q.where('state', 'in', f.states);
  if (f.kind) q = q.where('kind', '=', f.kind);
  // Newest first, as Octopus lists tasks: by queue time (indexed with space_id), ties by id.
  return pageOf<ServerTaskRow>(q, f, 'description', 'desc', ['queue_time']);
}

export async function getTask(db: Db, id: string): Promise<ServerTaskRow | undefined> {
  return db.selectFrom('server_tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listTaskLogChunks(db: Db, taskId: string): Promise<TaskLogChunkRow[]> {
  return db.selectFrom('task_log_chunks').selectAll().where('task_id', '=', taskId).orderBy('seq').execute();
}
