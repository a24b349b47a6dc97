import type { Db } from './list-query.js';

/** Log chunks of a task after `afterSeq`, in write order, at most `limit`. */
export async function chunksAfter(db: Db, taskId: string, afterSeq: number, limit: number) {
  return db
    .selectFrom('task_log_chunks')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}
