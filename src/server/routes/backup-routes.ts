import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { verifyArchive } from '../../admin/backup/archive-verdict.js';
import { listArchives } from '../../admin/backup/backup-list.js';
import {
  type BackupSchedule,
  clearBackupSchedule,
  readBackupSchedule,
  setBackupSchedule,
} from '../../admin/backup/backup-schedule.js';
import { backupsFolder, enqueueBackup, isScheduledArchive } from '../../admin/backup/backup-task-handler.js';
import { requireAdministrator } from '../../core/actor.js';
import { requireTask, taskResource } from '../../core/task-view-service.js';
import { NotFoundError, UsageError } from '../../lib/errors.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, Int, NStr, responses, Str, StrList } from '../schemas/common-schemas.js';
import { ServerTaskSchema } from '../schemas/resource-schemas.js';

const tags = ['Backups'];

const ArchiveSchema = Type.Object({
  File: Str,
  Path: Str,
  Bytes: Int,
  Modified: Str,
  Created: NStr,
  CuttleVersion: NStr,
  SchemaVersion: Type.Union([Int, Type.Null()]),
  InstanceId: NStr,
  Complete: Bool,
  Readable: Bool,
  Scheduled: Bool,
});

const ArchiveList = Type.Object({
  ItemType: Str,
  TotalResults: Int,
  Folder: Str,
  Items: Type.Array(ArchiveSchema),
});

const VerifyResult = Type.Object({
  File: Str,
  Ok: Bool,
  /** The error code of a failed verification (ARCHIVE_DAMAGED, ARCHIVE_KEY_WRONG, ARCHIVE_UNSUPPORTED), null when Ok. */
  Code: NStr,
  /** False when the archive is intact but newer than this Cuttle can restore. */
  Restorable: Bool,
  /** Engines a restore of it refuses: they cannot store some of its old values (listed in NonPortableValues). */
  NotRestorableTo: StrList,
  NonPortableValues: StrList,
  Problems: StrList,
  MasterKey: Str,
  Created: Str,
  CuttleVersion: Str,
  SchemaVersion: Int,
  Source: Str,
  InstanceName: Str,
  Tables: Type.Array(Type.Object({ Name: Str, Rows: Int })),
  TotalRows: Int,
  Files: Int,
  FileBytes: Int,
  KeyBundle: Bool,
  ChecksPassed: Int,
  ChecksFailed: Int,
});

const ScheduleSchema = Type.Object({
  Schedule: NStr,
  Retention: Type.Union([Int, Type.Null()]),
  NextRun: NStr,
  LastEnqueued: NStr,
  LastTaskId: NStr,
  TimeZone: Str,
});

function scheduleResource(s: BackupSchedule | undefined) {
  return {
    Schedule: s?.schedule ?? null,
    Retention: s?.retention ?? null,
    NextRun: s?.nextDue ?? null,
    LastEnqueued: s?.lastEnqueued ?? null,
    LastTaskId: s?.lastTaskId ?? null,
    TimeZone: 'UTC',
  };
}

/**
 * An archive the request names: a file name in the backups folder (or its full path there).
 * Nothing outside the backups folder is ever read.
 */
export function archiveInFolder(folder: string, file: string): string {
  if (!file || file.includes('\0'))
    throw new UsageError('File is required: the name of an archive.', { code: 'REQUEST_INVALID' });
  const dir = path.resolve(folder);
  const abs = path.resolve(dir, file);
  if (path.dirname(abs) !== dir) {
    throw new UsageError(`File must name an archive in the backups folder ${dir}.`, {
      code: 'REQUEST_INVALID',
      hints: ['Give the file name as GET /api/admin/backups lists it.'],
    });
  }
  if (!fs.existsSync(abs))
    throw new NotFoundError(`There is no archive ${path.basename(abs)} in ${dir}.`, { code: 'NOT_FOUND' });
  return abs;
}

/** Administrator-only: queue a backup, list the archives, verify one, and the backup schedule. */
export function backupRoutes(app: App, deps: RouteDeps): void {
  const { db, home } = deps;
  const admin = {
    preHandler: async (req: FastifyRequest) => requireAdministrator(req.actor, 'manage backups'),
  };

  app.post(
    '/api/admin/backups',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Queue a Backup server task: an archive in the backups folder (administrators only)',
        body: Type.Optional(Type.Object({ NoFiles: Type.Optional(Bool) })),
        response: responses(ServerTaskSchema, 201),
      },
    },
    async (req, reply) => {
      const id = await enqueueBackup(db, { NoFiles: req.body?.NoFiles === true });
      return reply.status(201).send(taskResource(await requireTask(db, id)));
    },
  );

  app.get(
    '/api/admin/backups',
    {
      ...admin,
      schema: {
        tags,
        summary: 'The archives in the backups folder, newest first (administrators only)',
        response: responses(ArchiveList),
      },
    },
    async () => {
      const folder = backupsFolder(home);
      const list = await listArchives(folder);
      return {
        ItemType: 'BackupArchive',
        TotalResults: list.length,
        Folder: folder,
        Items: list.map((a) => ({
          File: path.basename(a.file),
          Path: a.file,
          Bytes: a.bytes,
          Modified: a.modified,
          Created: a.header?.created ?? null,
          CuttleVersion: a.header?.cuttleVersion ?? null,
          SchemaVersion: a.header?.schemaVersion ?? null,
          InstanceId: a.header?.instanceId ?? null,
          Complete: a.complete,
          Readable: !!a.header,
          Scheduled: isScheduledArchive(a.file),
        })),
      };
    },
  );

  app.post(
    '/api/admin/backups/verify',
    {
      ...admin,
      schema: {
        tags,
        summary:
          "Read a whole archive, check every count and hash, and that this server's master key opens it",
        body: Type.Object({ File: Str }),
        response: responses(VerifyResult),
      },
    },
    async (req) => {
      const file = archiveInFolder(backupsFolder(home), req.body.File);
      const {
        contents: c,
        key,
        problems,
        cannotRestore,
        code,
        nonPortable,
        notRestorableTo,
      } = await verifyArchive(file, { key: deps.key });
      const m = c.manifest;
      return {
        File: path.basename(file),
        Ok: problems.length === 0,
        Code: code ?? null,
        Restorable: !cannotRestore,
        NotRestorableTo: notRestorableTo,
        NonPortableValues: nonPortable,
        Problems: problems,
        MasterKey: key.summary,
        Created: m.created,
        CuttleVersion: m.cuttleVersion,
        SchemaVersion: m.schemaVersion,
        Source: m.source.label,
        InstanceName: m.instanceName,
        Tables: m.tables.map((t) => ({ Name: t.name, Rows: t.rows })),
        TotalRows: m.totals.rows,
        Files: m.totals.files,
        FileBytes: m.totals.fileBytes,
        KeyBundle: m.contents.keyBundle,
        ChecksPassed: c.checks.filter((x) => x.ok).length,
        ChecksFailed: c.checks.filter((x) => !x.ok).length,
      };
    },
  );

  app.get(
    '/api/admin/backups/schedule',
    { ...admin, schema: { tags, summary: 'The backup schedule', response: responses(ScheduleSchema) } },
    async () => scheduleResource(await readBackupSchedule(db)),
  );

  app.put(
    '/api/admin/backups/schedule',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Set the backup schedule ("daily 02:00", UTC) and retention; Schedule null turns it off',
        body: Type.Object({ Schedule: NStr, Retention: Type.Optional(Int) }),
        response: responses(ScheduleSchema),
      },
    },
    async (req) => {
      if (req.body.Schedule === null || req.body.Schedule.trim() === '') {
        await clearBackupSchedule(db);
        return scheduleResource(undefined);
      }
      return scheduleResource(
        await setBackupSchedule(db, { schedule: req.body.Schedule, retention: req.body.Retention }),
      );
    },
  );
}
