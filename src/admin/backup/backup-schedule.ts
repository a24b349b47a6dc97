import type { Kysely } from 'kysely';
import { nowIso } from '../../lib/clock.js';
import { UsageError } from '../../lib/errors.js';
import { nextChangeNumber } from '../../storage/repositories/id-allocator.js';
import { deleteMeta, getMeta, META, setMeta } from '../../storage/repositories/metadata-repository.js';
import type { Database } from '../../storage/schema/database-types.js';

/**
 * Scheduled backups. The schedule lives in the database (instance_metadata 'backup-schedule'), so
 * every node of the instance sees one schedule and a restored or moved copy keeps it:
 *   { schedule: "daily 02:00", retention: 14, nextDue: ISO, lastEnqueued?: ISO, lastTaskId?: string }
 * Times are UTC. `nextDue` is the compare-and-swap field: a node enqueues a due backup only if its
 * conditional UPDATE of the row (still holding the value it read) changed one row.
 */
export interface BackupSchedule {
  schedule: string;
  /** Scheduled archives kept in the backups folder; older ones are deleted after a successful run. */
  retention: number;
  nextDue: string;
  lastEnqueued?: string;
  lastTaskId?: string;
}

export type ScheduleSpec =
  | { every: 'hourly'; minute: number }
  | { every: 'daily'; hour: number; minute: number }
  | { every: 'weekly'; weekday: number; hour: number; minute: number };

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MAX_RETENTION = 1000;

/** "hourly [:MM]", "daily HH:MM", "weekly DAY HH:MM" (DAY: mon..sun), UTC. */
function parseSchedule(text: string): ScheduleSpec {
  const s = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const bad = () =>
    new UsageError(`"${text}" is not a backup schedule.`, {
      code: 'BACKUP_SCHEDULE_INVALID',
      hints: ['Use "hourly", "hourly :30", "daily 02:00" or "weekly sun 03:30" (times are UTC).'],
    });
  const hm = (v: string | undefined): [number, number] => {
    const m = /^(\d{1,2}):(\d{2})$/.exec(v ?? '');
    if (!m) throw bad();
    const h = Number(m[1]);
    const min = Number(m[2]);
    if (h > 23 || min > 59) throw bad();
    return [h, min];
  };
  const parts = s.split(' ');
  if (parts[0] === 'hourly') {
    if (parts.length === 1) return { every: 'hourly', minute: 0 };
    const m = /^:(\d{2})$/.exec(parts[1] ?? '');
    if (parts.length !== 2 || !m || Number(m[1]) > 59) throw bad();
    return { every: 'hourly', minute: Number(m[1]) };
  }
  if (parts[0] === 'daily' && parts.length === 2) {
    const [hour, minute] = hm(parts[1]);
    return { every: 'daily', hour, minute };
  }
  if (parts[0] === 'weekly' && parts.length === 3) {
    const weekday = DAYS.indexOf((parts[1] ?? '').slice(0, 3));
    if (weekday < 0) throw bad();
    const [hour, minute] = hm(parts[2]);
    return { every: 'weekly', weekday, hour, minute };
  }
  throw bad();
}

/** The first time strictly after `after` that the schedule names. */
function nextRun(spec: ScheduleSpec, after: Date): Date {
  const d = new Date(after.getTime());
  d.setUTCSeconds(0, 0);
  if (spec.every === 'hourly') {
    d.setUTCMinutes(spec.minute);
    while (d <= after) d.setUTCHours(d.getUTCHours() + 1);
    return d;
  }
  d.setUTCHours(spec.hour, spec.minute, 0, 0);
  if (spec.every === 'daily') {
    while (d <= after) d.setUTCDate(d.getUTCDate() + 1);
    return d;
  }
  while (d <= after || d.getUTCDay() !== spec.weekday) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

function checkRetention(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RETENTION) {
    throw new UsageError(`The retention must be a whole number from 1 to ${MAX_RETENTION} archives.`, {
      code: 'BACKUP_SCHEDULE_INVALID',
    });
  }
  return n;
}

export async function readBackupSchedule(db: Kysely<Database>): Promise<BackupSchedule | undefined> {
  const raw = await getMeta(db, META.backupSchedule);
  return raw === undefined ? undefined : parseStored(raw);
}

function parseStored(raw: string): BackupSchedule | undefined {
  try {
    const v = JSON.parse(raw) as Partial<BackupSchedule>;
    if (typeof v.schedule !== 'string' || typeof v.nextDue !== 'string') return undefined;
    parseSchedule(v.schedule);
    return { ...v, retention: Number(v.retention) || 7 } as BackupSchedule;
  } catch {
    return undefined;
  }
}

/** Sets (or replaces) the schedule; the first run is the next time it names. */
export async function setBackupSchedule(
  db: Kysely<Database>,
  input: { schedule: string; retention?: number },
  now = new Date(),
): Promise<BackupSchedule> {
  const spec = parseSchedule(input.schedule);
  const old = await readBackupSchedule(db);
  const value: BackupSchedule = {
    schedule: input.schedule.trim().replace(/\s+/g, ' '),
    retention: checkRetention(input.retention ?? old?.retention ?? 7),
    nextDue: nextRun(spec, now).toISOString(),
    ...(old?.lastEnqueued ? { lastEnqueued: old.lastEnqueued, lastTaskId: old.lastTaskId } : {}),
  };
  await setMeta(db, META.backupSchedule, JSON.stringify(value));
  return value;
}

export async function clearBackupSchedule(db: Kysely<Database>): Promise<boolean> {
  const had = (await getMeta(db, META.backupSchedule)) !== undefined;
  await deleteMeta(db, META.backupSchedule);
  return had;
}

/**
 * Claims a due run: one conditional UPDATE that moves `nextDue` on and records `lastEnqueued`,
 * matched on the exact value this node read. Of several nodes reading the same due row, only the
 * one whose UPDATE changes a row may enqueue; the others see 0 rows and do nothing.
 */
export async function claimDueBackup(
  db: Kysely<Database>,
  now = new Date(),
): Promise<{ schedule: BackupSchedule; claimed: BackupSchedule } | undefined> {
  const raw = await getMeta(db, META.backupSchedule);
  if (raw === undefined) return undefined;
  const schedule = parseStored(raw);
  if (!schedule || Date.parse(schedule.nextDue) > now.getTime()) return undefined;
  const claimed: BackupSchedule = {
    ...schedule,
    nextDue: nextRun(parseSchedule(schedule.schedule), now).toISOString(),
    lastEnqueued: now.toISOString(),
  };
  const r = await db
    .updateTable('instance_metadata')
    .set({
      value: JSON.stringify(claimed),
      updated: nowIso(),
      change_number: await nextChangeNumber(db),
    })
    .where('key', '=', META.backupSchedule)
    .where('value', '=', raw)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return undefined;
  return { schedule, claimed };
}

/** Records the task a claimed run enqueued (best effort: only `backup schedule --show` reads it). */
export async function recordScheduledTask(db: Kysely<Database>, claimed: BackupSchedule, taskId: string) {
  const raw = JSON.stringify(claimed);
  await db
    .updateTable('instance_metadata')
    .set({ value: JSON.stringify({ ...claimed, lastTaskId: taskId }) })
    .where('key', '=', META.backupSchedule)
    .where('value', '=', raw)
    .execute();
}
