import type { Kysely } from 'kysely';
import { NotFoundError } from '../lib/errors.js';
import {
  getTask,
  listTaskLogChunks,
  listTasks,
  type ServerTaskRow,
  type TaskFilter,
  type TaskLogChunkRow,
} from '../storage/repositories/task-view-repository.js';
import { type Database, toBool } from '../storage/schema/database-types.js';
import { isCompleted } from '../tasks/task-types.js';

/** The read side of server tasks in Octopus's shapes: ServerTask, task details, raw log. */
function duration(start: string | null, end: string | null): string {
  if (!start) return '';
  const ms = Math.max(0, (end ? Date.parse(end) : Date.now()) - Date.parse(start));
  const s = Math.round(ms / 1000);
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? '1 minute' : `${m} minutes`;
  const h = Math.floor(m / 60);
  return h === 1 ? '1 hour' : `${h} hours`;
}

export function taskResource(row: ServerTaskRow) {
  let args: Record<string, unknown> = {};
  try {
    args = JSON.parse(row.arguments_json || '{}') as Record<string, unknown>;
  } catch {
    // Unreadable arguments are shown as none.
  }
  const done = isCompleted(row.state);
  const base = row.space_id ? `/api/${row.space_id}/tasks/${row.id}` : `/api/tasks/${row.id}`;
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Name: row.name,
    Description: row.description,
    State: row.state,
    IsCompleted: done,
    FinishedSuccessfully: row.state === 'Success',
    HasPendingInterruptions: false,
    HasBeenPickedUpByProcessor: row.start_time !== null,
    HasWarningsOrErrors: toBool(row.has_warnings_or_errors),
    ErrorMessage: row.error_message ?? '',
    QueueTime: row.queue_time,
    QueueTimeExpiry: null,
    StartTime: row.start_time,
    CompletedTime: row.completed_time,
    LastUpdatedTime: row.last_updated,
    Duration: duration(row.start_time, row.completed_time),
    ServerNode: row.node_id,
    CanRerun: false,
    IsPreparing: false,
    Arguments: args,
    Links: {
      Self: base,
      Details: `${base}/details`,
      Raw: `${base}/raw`,
      Cancel: `/api/tasks/${row.id}/cancel`,
    },
  };
}
export type TaskResource = ReturnType<typeof taskResource>;

export async function listTaskResources(db: Kysely<Database>, f: TaskFilter) {
  const page = await listTasks(db, f);
  return { total: page.total, items: page.rows.map(taskResource) };
}

export async function requireTask(
  db: Kysely<Database>,
  id: string,
  spaceId?: string,
): Promise<ServerTaskRow> {
  const row = await getTask(db, id);
  if (!row || (spaceId && row.space_id !== spaceId))
    throw new NotFoundError(`The server task ${id} does not exist.`, { code: 'NOT_FOUND' });
  return row;
}

interface StoredActivity {
  Id: string;
  Name: string;
  Status: string;
  Started: string | null;
  Ended: string | null;
  ParentId: string | null;
}

export interface ActivityLog {
  Id: string;
  Name: string;
  Started: string | null;
  Ended: string | null;
  Status: string;
  ShowAtSummaryLevel: boolean;
  ProgressPercentage: number;
  ProgressMessage: string | null;
  LogElements: { Category: string; OccurredAt: string; MessageText: string; Detail: string | null }[];
  Children: ActivityLog[];
}

function parseActivities(json: string): StoredActivity[] {
  try {
    const v = JSON.parse(json || '[]') as unknown;
    return Array.isArray(v) ? (v as StoredActivity[]) : [];
  } catch {
    return [];
  }
}

/**
 * Builds task > step > action from the flat activity list (server_tasks.activity_json) and hangs
 * each log chunk's lines on its activity. Lines of an activity the tree does not know (or of a
 * task that has not started) go to the root, so no output is ever hidden.
 */
function buildActivityTree(task: ServerTaskRow, chunks: TaskLogChunkRow[]): ActivityLog[] {
  const stored = parseActivities(task.activity_json);
  const done = isCompleted(task.state);
  const rootStatus =
    task.state === 'Success'
      ? 'Success'
      : task.state === 'Queued'
        ? 'Pending'
        : done
          ? task.state === 'Canceled'
            ? 'Canceled'
            : 'Failed'
          : 'Running';
  const nodes = new Map<string, ActivityLog & { parent: string | null }>();
  const make = (a: StoredActivity, parent: string | null) => ({
    Id: a.Id,
    Name: a.Name,
    Started: a.Started,
    Ended: a.Ended,
    Status: a.Status,
    ShowAtSummaryLevel: true,
    ProgressPercentage: a.Ended ? 100 : 0,
    ProgressMessage: null,
    LogElements: [],
    Children: [],
    parent,
  });
  const rootStored = stored.find((a) => a.Id === task.id);
  nodes.set(
    task.id,
    make(
      rootStored ?? {
        Id: task.id,
        Name: task.description || task.name,
        Status: rootStatus,
        Started: task.start_time,
        Ended: task.completed_time,
        ParentId: null,
      },
      null,
    ),
  );
  for (const a of stored)
    if (a.Id !== task.id) nodes.set(a.Id, make(a, a.ParentId && a.ParentId !== a.Id ? a.ParentId : task.id));
  for (const n of nodes.values()) {
    if (n.parent === null) continue;
    (nodes.get(n.parent) ?? nodes.get(task.id)!).Children.push(n);
  }
  for (const c of chunks) {
    const target = nodes.get(c.activity_id) ?? nodes.get(task.id)!;
    for (const line of c.text.split('\n')) {
      target.LogElements.push({
        Category: c.category,
        OccurredAt: c.occurred,
        MessageText: line,
        Detail: null,
      });
    }
  }
  const strip = (n: ActivityLog & { parent?: string | null }): ActivityLog => ({
    Id: n.Id,
    Name: n.Name,
    Started: n.Started,
    Ended: n.Ended,
    Status: n.Status,
    ShowAtSummaryLevel: n.ShowAtSummaryLevel,
    ProgressPercentage: n.ProgressPercentage,
    ProgressMessage: n.ProgressMessage,
    LogElements: n.LogElements,
    Children: n.Children.map(strip),
  });
  return [strip(nodes.get(task.id)!)];
}

export async function taskDetails(db: Kysely<Database>, id: string, spaceId?: string) {
  const task = await requireTask(db, id, spaceId);
  const chunks = await listTaskLogChunks(db, id);
  const size = chunks.reduce((n, c) => n + Buffer.byteLength(c.text) + 1, 0);
  return {
    Task: taskResource(task),
    Progress: { ProgressPercentage: isCompleted(task.state) ? 100 : 0, EstimatedTimeRemaining: '' },
    PhysicalLogSize: size,
    ActivityLogs: buildActivityTree(task, chunks),
    Links: { Self: `/api/${task.space_id ?? ''}/tasks/${id}/details`.replace('//', '/') },
  };
}

/** The raw log: one line per log line, `<time> <Category padded> <text>`, in write order. */
export async function taskRawLog(db: Kysely<Database>, id: string, spaceId?: string): Promise<string> {
  const task = await requireTask(db, id, spaceId);
  const chunks = await listTaskLogChunks(db, id);
  const names = new Map(parseActivities(task.activity_json).map((a) => [a.Id, a.Name]));
  const out: string[] = [];
  let lastActivity = '';
  for (const c of chunks) {
    if (c.activity_id !== lastActivity && c.activity_id !== task.id && names.has(c.activity_id)) {
      out.push(`                    | ${names.get(c.activity_id)}`);
    }
    lastActivity = c.activity_id;
    for (const line of c.text.split('\n')) out.push(`${c.occurred} ${c.category.padEnd(8)} ${line}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
