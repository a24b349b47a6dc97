import type { Selectable } from 'kysely';
import type { ServerTaskRow } from '../storage/schema/database-types.js';
import type { TaskRecord, TaskState } from './task-types.js';

/** States in which a node holds the task's lease and a process may be running for it. */
export const ACTIVE_STATES: readonly TaskState[] = ['Executing', 'Cancelling'];

export function toTaskRecord(row: Selectable<ServerTaskRow>): TaskRecord {
  let args: Record<string, unknown> = {};
  try {
    args = JSON.parse(row.arguments_json) as Record<string, unknown>;
  } catch {
    // A task whose arguments cannot be read still runs (and its handler fails it with a message).
  }
  return {
    id: row.id,
    spaceId: row.space_id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    arguments: args,
    attempts: Number(row.attempts),
  };
}
