import type { Kysely } from 'kysely';
import { chunksAfter } from '../storage/repositories/task-stream-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { watchTaskLog } from '../tasks/task-log-writer.js';
import { isCompleted } from '../tasks/task-types.js';
import { requireTask, taskResource } from './task-view-service.js';

export interface TaskActivity {
  Id: string;
  Name: string;
  Status: string;
  Started: string | null;
  Ended: string | null;
  ParentId: string | null;
}

/** The task and its activities (the tree, flat, without log lines): what the task page heads with. */
export async function taskHead(db: Kysely<Database>, id: string) {
  const row = await requireTask(db, id);
  let activities: TaskActivity[] = [];
  try {
    const v = JSON.parse(row.activity_json || '[]') as unknown;
    if (Array.isArray(v)) activities = v as TaskActivity[];
  } catch {
    // an unreadable tree is shown as none
  }
  return {
    Task: taskResource(row),
    Activities: activities.map((a) => ({
      Id: a.Id,
      Name: a.Name,
      Status: a.Status,
      Started: a.Started ?? null,
      Ended: a.Ended ?? null,
      ParentId: a.ParentId && a.ParentId !== a.Id ? a.ParentId : null,
    })),
    IsCompleted: isCompleted(row.state),
  };
}

export async function logChunksAfter(db: Kysely<Database>, id: string, afterSeq: number, limit = 2_000) {
  const rows = await chunksAfter(db, id, afterSeq, limit);
  return rows.map((c) => ({
    Seq: Number(c.seq),
    ActivityId: c.activity_id,
    Category: c.category,
    Occurred: c.occurred,
    Text: c.text,
  }));
}

/**
 * Calls `onFlushed` right after each flush of the task's log that this node committed, and makes
 * this node's writer flush it sooner, until the returned function is called (task-log-writer.ts).
 */
export function watchLocalTaskLog(db: Kysely<Database>, taskId: string, onFlushed: () => void): () => void {
  return watchTaskLog(db, taskId, () => onFlushed());
}
