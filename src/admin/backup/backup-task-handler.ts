import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { configPathFor } from '../../config/home-layout.js';
import { type InstanceConfig, loadConfig, resolvePath } from '../../config/instance-config.js';
import { writeEvent } from '../../core/event-service.js';
import { getMaintenance } from '../../core/maintenance-service.js';
import type { ProgressReporter } from '../../lib/progress.js';
import type { Database } from '../../storage/schema/database-types.js';
import type { Storage } from '../../storage/storage.js';
import { registerTaskHandler } from '../../tasks/handler-registry.js';
import { enqueueTask } from '../../tasks/task-queue.js';
import type { TaskContext, TaskOutcome } from '../../tasks/task-types.js';
import { archiveExtension } from './archive-compression.js';
import { writeBackup } from './backup-create.js';
import { configuredPassphrase } from './backup-key.js';
import { claimDueBackup, recordScheduledTask } from './backup-schedule.js';

/**
 * The "Backup" server task: `backup create` run by a node into the instance's backups folder,
 * queued by POST /api/admin/backups or by the backup scheduler. Each run writes a BackupSucceeded
 * or BackupFailed event; a scheduled run then deletes scheduled archives beyond the retention.
 */
const BACKUP_TASK_KIND = 'Backup';

/** Scheduled archives are named `...-scheduled.tar.zst` (or `.tar.gz`); only they are pruned (a manual archive is never deleted). */
export function isScheduledArchive(name: string): boolean {
  return /-scheduled\.tar\.(gz|zst)$/.test(name);
}

export interface BackupTaskArguments {
  /** Queued by the scheduler: prune scheduled archives beyond `Retention` afterwards. */
  Scheduled?: boolean;
  Retention?: number;
  /** Leave out artifacts and packages. */
  NoFiles?: boolean;
}

/** The instance's config, read from its home (undefined for a bare home, e.g. an API test). */
function homeConfig(home: string): InstanceConfig | undefined {
  const file = configPathFor(home);
  if (!fs.existsSync(file)) return undefined;
  try {
    return loadConfig(file);
  } catch {
    return undefined;
  }
}

export function backupsFolder(home: string, config = homeConfig(home)): string {
  return config ? resolvePath(config, config.paths.backups) : path.join(home, 'backups');
}

function archiveName(instance: string, when: Date, scheduled: boolean): string {
  const stamp = when
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `cuttle-${instance}-${stamp}${scheduled ? '-scheduled' : ''}${archiveExtension()}`;
}

/** Deletes the oldest scheduled archives so that `retention` remain. Returns the deleted files. */
export function pruneScheduledArchives(dir: string, retention: number): string[] {
  if (!fs.existsSync(dir)) return [];
  // The name carries the UTC time of the run (whatever the instance was called then): newest first.
  const stamp = (n: string) => /(\d{8}T\d{6}Z)-scheduled\.tar\.(?:gz|zst)$/.exec(n)?.[1] ?? '';
  const scheduled = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('cuttle-') && isScheduledArchive(n))
    .sort((a, b) => (stamp(a) < stamp(b) ? 1 : stamp(a) > stamp(b) ? -1 : a < b ? 1 : -1));
  const deleted: string[] = [];
  for (const n of scheduled.slice(Math.max(1, retention))) {
    const file = path.join(dir, n);
    fs.rmSync(file, { force: true });
    deleted.push(file);
  }
  return deleted;
}

function taskProgress(ctx: TaskContext): ProgressReporter {
  const last = new Map<string, number>();
  return {
    update(u) {
      const now = Date.now();
      const final = u.state === 'done' || u.state === 'failed';
      if (!final && now - (last.get(u.step) ?? 0) < 2000) return;
      last.set(u.step, now);
      const amount =
        u.done !== undefined
          ? `: ${u.done}${u.total !== undefined ? ` of ${u.total}` : ''} ${u.unit ?? ''}`
          : '';
      ctx.log.info(`${u.step}${amount}${u.message ? ` ${u.message}` : ''}${final ? ` (${u.state})` : ''}`);
    },
    note(message) {
      ctx.log.warn(message);
    },
  };
}

async function backupTaskHandler(ctx: TaskContext): Promise<TaskOutcome | undefined> {
  const args = ctx.task.arguments as BackupTaskArguments;
  const config = homeConfig(ctx.home);
  const instance = config?.instanceName ?? 'instance';
  const dir = backupsFolder(ctx.home, config);
  const scheduled = args.Scheduled === true;
  let output = path.join(dir, archiveName(instance, new Date(), scheduled));
  if (fs.existsSync(output))
    output = path.join(dir, archiveName(`${instance}-${ctx.task.id}`, new Date(), scheduled));
  ctx.activities.start('backup', 'Write the backup archive');
  ctx.log.info(`Writing ${output}${scheduled ? ' (scheduled)' : ''}`, 'backup');
  try {
    // a configured passphrase that cannot be read fails the backup: an archive quietly written
    // without the key bundle the admin asked for would only be found out at restore time
    const passphrase = configuredPassphrase(config);
    fs.mkdirSync(dir, { recursive: true });
    const r = await writeBackup({
      storage: ctx.storage,
      output,
      instanceName: instance,
      config,
      key: ctx.key,
      passphrase,
      files: !args.NoFiles,
      progress: taskProgress(ctx),
    });
    const m = r.manifest;
    const summary = `${m.tables.length} tables, ${m.totals.rows} rows, ${m.totals.files} files, ${(r.bytes / 1048576).toFixed(1)} MB`;
    ctx.log.info(`Backup written: ${r.file} (${summary}; sha256 ${r.sha256})`, 'backup');
    ctx.log.info(
      passphrase
        ? `The master key is sealed in the archive's key bundle with the passphrase in ${config?.backupPassphraseFile}.`
        : 'The master key is not in the archive: a restore needs it (`cuttle show-master-key`), or set `cuttle configure --backup-passphrase-file FILE` to seal it into backups.',
      'backup',
    );
    ctx.activities.finish('backup', 'Success');
    let pruned: string[] = [];
    if (scheduled && args.Retention) {
      pruned = pruneScheduledArchives(dir, args.Retention);
      for (const f of pruned) ctx.log.info(`Deleted ${f} (beyond the retention of ${args.Retention})`);
    }
    await writeEvent(ctx.storage.db, {
      category: 'BackupSucceeded',
      message: `${scheduled ? 'Scheduled backup' : 'Backup'} written to ${path.basename(r.file)}: ${summary}.${pruned.length ? ` ${pruned.length} old archive(s) deleted.` : ''}`,
      relatedDocumentIds: [ctx.task.id],
      details: {
        File: r.file,
        Bytes: r.bytes,
        Sha256: r.sha256,
        Scheduled: scheduled,
        KeyBundle: !!passphrase,
        Pruned: pruned,
      },
    });
    return { warnings: m.missingArtifacts.length > 0 };
  } catch (err) {
    ctx.activities.finish('backup', 'Failed');
    const reason = err instanceof Error ? err.message : String(err);
    await writeEvent(ctx.storage.db, {
      category: 'BackupFailed',
      message: `${scheduled ? 'Scheduled backup' : 'Backup'} to ${path.basename(output)} failed: ${reason}`,
      relatedDocumentIds: [ctx.task.id],
      details: { File: output, Scheduled: scheduled },
    }).catch(() => {});
    throw err;
  }
}

/** Queues a Backup task (REST and scheduler). */
export function enqueueBackup(db: Kysely<Database>, args: BackupTaskArguments = {}): Promise<string> {
  return enqueueTask(db, {
    kind: BACKUP_TASK_KIND,
    spaceId: null,
    name: BACKUP_TASK_KIND,
    description: args.Scheduled ? 'Scheduled backup' : 'Back up the instance',
    arguments: { ...args },
  });
}

/**
 * One scheduler tick: when the schedule is due, claim it (conditional UPDATE, so one node of many
 * wins) and queue the Backup task. Skipped in maintenance mode (a move or restore is under way:
 * the due time is left as it is and the run happens once maintenance is off).
 */
export async function runSchedulerTick(db: Kysely<Database>, now = new Date()): Promise<string | undefined> {
  if ((await getMaintenance(db)).IsInMaintenanceMode) return undefined;
  const due = await claimDueBackup(db, now);
  if (!due) return undefined;
  const busy = await db
    .selectFrom('server_tasks')
    .select('id')
    .where('kind', '=', BACKUP_TASK_KIND)
    .where('state', 'in', ['Queued', 'Executing', 'Cancelling'])
    .executeTakeFirst();
  if (busy) return undefined;
  const id = await enqueueBackup(db, { Scheduled: true, Retention: due.schedule.retention });
  await recordScheduledTask(db, due.claimed, id);
  return id;
}

export interface BackupNode {
  storage: Storage;
  home: string;
  /** True once the node is shutting down: the scheduler stops at its next tick. */
  isStopping: () => boolean;
  /** Tick interval; default 30 s (CUTTLE_BACKUP_SCHEDULER_MS overrides, for tests). */
  intervalMs?: number;
}

/**
 * Registers the Backup task handler (idempotent) and, given a node, starts its backup scheduler.
 * Called once by the node process next to the core handlers.
 */
export function registerBackupTasks(node?: BackupNode): { stop(): void } {
  registerTaskHandler(BACKUP_TASK_KIND, backupTaskHandler);
  if (!node) return { stop() {} };
  const every = node.intervalMs ?? (Number(process.env.CUTTLE_BACKUP_SCHEDULER_MS) || 30_000);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  const tick = async () => {
    if (stopped || node.isStopping()) return stop();
    try {
      await runSchedulerTick(node.storage.db);
    } catch (err) {
      if (!node.isStopping())
        process.stderr.write(`Backup scheduler: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    if (!stopped) timer = setTimeout(tick, every).unref();
  };
  timer = setTimeout(tick, Math.min(every, 5000)).unref();
  return { stop };
}
