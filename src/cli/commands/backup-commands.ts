import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { archiveExtension } from '../../admin/backup/archive-compression.js';
import { verificationFailed, verifyArchive } from '../../admin/backup/archive-verdict.js';
import { writeBackup } from '../../admin/backup/backup-create.js';
import { configuredPassphrase, readPassphraseFile } from '../../admin/backup/backup-key.js';
import { listArchives } from '../../admin/backup/backup-list.js';
import { type RestoreResult, restoreBackup } from '../../admin/backup/backup-restore.js';
import {
  type BackupSchedule,
  clearBackupSchedule,
  readBackupSchedule,
  setBackupSchedule,
} from '../../admin/backup/backup-schedule.js';
import { isScheduledArchive } from '../../admin/backup/backup-task-handler.js';
import { loadInstance, openInstanceStorage } from '../../admin/instance-context.js';
import { parseConnectionString } from '../../config/connection-string.js';
import { resolvePath } from '../../config/instance-config.js';
import { UsageError } from '../../lib/errors.js';
import { EXIT_PRECONDITION } from '../../lib/exit-codes.js';
import { consoleProgress } from '../../lib/progress.js';
import { intOption, withInstance } from '../instance-options.js';
import { out, outFields, outJson, outTable } from '../output.js';

function defaultArchiveName(instance: string, when = new Date()): string {
  const stamp = when
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `cuttle-${instance}-${stamp}${archiveExtension()}`;
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function register(program: Command) {
  const backup = program.command('backup').description('create, verify and restore backup archives');
  registerCreate(backup);
  registerList(backup);
  registerSchedule(backup);
  registerVerify(backup);
  registerRestore(backup);
}

/** `backup create`: one archive with the database, the files and (with a passphrase) the sealed key. */
function registerCreate(backup: Command): void {
  withInstance(backup.command('create'))
    .description(
      'write one archive with the database, the files and (with a passphrase) the sealed master key',
    )
    .option(
      '--output <file>',
      'the archive to write (default: <home>/backups/cuttle-<instance>-<time>.tar.zst, .tar.gz where zstd is not installed; a name ending in .tar.gz chooses gzip)',
    )
    .option(
      '--passphrase-file <file>',
      "seal the master key into the archive with this passphrase (default: the instance's --backup-passphrase-file, if set)",
    )
    .option('--no-files', 'leave out artifacts and packages')
    .option('--no-database', 'leave out the database')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      if (!o.files && !o.database)
        throw new UsageError('--no-files with --no-database leaves nothing to back up.', {
          code: 'OPTIONS_CONFLICT',
        });
      const inst = loadInstance(o);
      // the instance's backup passphrase (configure --backup-passphrase-file) unless one is given
      const passphrase = o.passphraseFile
        ? readPassphraseFile(o.passphraseFile)
        : configuredPassphrase(inst.config);
      const output = path.resolve(
        o.output ??
          path.join(resolvePath(inst.config, inst.config.paths.backups), defaultArchiveName(inst.name)),
      );
      const storage = await openInstanceStorage(inst);
      try {
        const r = await writeBackup({
          storage,
          output,
          instanceName: inst.name,
          config: inst.config,
          key: inst.key,
          passphrase,
          database: o.database,
          files: o.files,
          progress: consoleProgress(),
        });
        if (o.format === 'json')
          return outJson({ file: r.file, bytes: r.bytes, sha256: r.sha256, manifest: r.manifest });
        const m = r.manifest;
        out(`Backup written: ${r.file}`);
        outFields([
          ['Size', mb(r.bytes)],
          [
            'Tables',
            `${m.tables.length} (${m.totals.rows.toLocaleString('en-US')} rows, ${mb(m.totals.tableBytes)} uncompressed)`,
          ],
          ['Files', `${m.totals.files} (${mb(m.totals.fileBytes)})`],
          [
            'Master key',
            m.contents.keyBundle ? 'sealed in the archive with the passphrase' : 'NOT in the archive',
          ],
          ['Took', `${(m.durationMs / 1000).toFixed(1)} s`],
        ]);
        if (!m.contents.keyBundle)
          out('Keep the master key (`cuttle show-master-key`) apart: a restore needs it.');
        if (m.missingArtifacts.length)
          out(`Warning: ${m.missingArtifacts.length} artifact file(s) were already missing.`);
      } finally {
        await storage.close();
      }
    });
}

/** `backup list`: the archives of a folder, with what their headers say (not verified). */
function registerList(backup: Command): void {
  withInstance(backup.command('list'))
    .description("list the archives in the instance's backups folder (or --dir)")
    .option('--dir <dir>', 'list this folder instead')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const dir = o.dir
        ? path.resolve(o.dir)
        : (() => {
            const inst = loadInstance(o);
            return resolvePath(inst.config, inst.config.paths.backups);
          })();
      const list = await listArchives(dir);
      if (o.format === 'json') return outJson(list);
      if (!list.length) return out(`No backup archives in ${dir}.`);
      outTable(
        ['Archive', 'Size', 'Created', 'Schema', 'State'],
        list.map((a) => [
          path.basename(a.file),
          mb(a.bytes),
          a.header?.created ?? a.modified,
          a.header?.schemaVersion ?? '-',
          `${!a.complete ? 'partial (interrupted)' : a.header ? 'ok (not verified)' : 'unreadable'}${isScheduledArchive(a.file) ? ', scheduled' : ''}`,
        ]),
      );
    });
}

/** `backup schedule`: the scheduled Backup task, its retention and next run. */
function registerSchedule(backup: Command): void {
  withInstance(backup.command('schedule'))
    .description('scheduled backups: a Backup server task into the backups folder, old ones pruned')
    .option('--set <schedule>', '"hourly", "hourly :30", "daily 02:00" or "weekly sun 03:30" (UTC)')
    .option('--retention <n>', 'scheduled archives to keep (default 7)', intOption('--retention', 1))
    .option('--off', 'remove the schedule')
    .option('--show', 'show the schedule (the default)')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      if (o.off && (o.set || o.retention !== undefined))
        throw new UsageError('--off cannot be combined with --set or --retention.', {
          code: 'OPTIONS_CONFLICT',
        });
      const inst = loadInstance(o);
      const storage = await openInstanceStorage(inst);
      try {
        let s: BackupSchedule | undefined;
        if (o.off) {
          const had = await clearBackupSchedule(storage.db);
          if (o.format === 'json') return outJson({ schedule: null, removed: had });
          return out(had ? 'Scheduled backups are off.' : 'There was no backup schedule.');
        }
        if (o.set) s = await setBackupSchedule(storage.db, { schedule: o.set, retention: o.retention });
        else if (o.retention !== undefined) {
          const old = await readBackupSchedule(storage.db);
          if (!old)
            throw new UsageError('There is no backup schedule yet: give --set SCHEDULE too.', {
              code: 'OPTION_MISSING',
            });
          s = await setBackupSchedule(storage.db, { schedule: old.schedule, retention: o.retention });
        } else s = await readBackupSchedule(storage.db);
        if (o.format === 'json') return outJson({ schedule: s ?? null });
        if (!s) return out('No backup schedule (`cuttle backup schedule --set "daily 02:00"` adds one).');
        if (o.set || o.retention !== undefined) out(`Saved the backup schedule of instance "${inst.name}".`);
        outFields([
          ['Schedule', `${s.schedule} (UTC)`],
          ['Next run', s.nextDue],
          ['Retention', `${s.retention} scheduled archive(s)`],
          ['Folder', resolvePath(inst.config, inst.config.paths.backups)],
          ['Last run queued', s.lastEnqueued ? `${s.lastEnqueued} (${s.lastTaskId ?? '-'})` : '-'],
        ]);
        out('A running node queues each run as a Backup task; `cuttle backup list` shows the archives.');
      } finally {
        await storage.close();
      }
    });
}

/** `backup verify`: the whole archive read and checked, the key, and whether this version can restore it. */
function registerVerify(backup: Command): void {
  backup
    .command('verify')
    .description('read the whole archive and check every count and hash, and the key')
    .argument('<file>', 'the backup archive')
    .option(
      '--passphrase-file <file>',
      'also check that the key bundle opens and the key decrypts the canary',
    )
    .option('--master-key-file <file>', 'also check that this key decrypts the canary')
    .option('--format <format>', 'text or json', 'text')
    .action(async (file, o) => {
      const archive = path.resolve(file);
      const passphrase = o.passphraseFile ? readPassphraseFile(o.passphraseFile) : undefined;
      const verdict = await verifyArchive(
        archive,
        { passphrase, masterKeyFile: o.masterKeyFile },
        consoleProgress(),
      );
      const { contents: c, problems } = verdict;
      const key = verdict.key.summary;
      const m = c.manifest;
      if (o.format === 'json') {
        outJson({
          file: archive,
          ok: problems.length === 0,
          code: verdict.code ?? null,
          restorable: !verdict.cannotRestore,
          notRestorableTo: verdict.notRestorableTo,
          nonPortable: verdict.nonPortable,
          problems,
          key,
          manifest: m,
          checks: c.checks,
        });
      } else {
        outFields([
          ['Archive', archive],
          ['Created', `${m.created} by Cuttle ${m.cuttleVersion}`],
          ['Instance', `${m.instanceName} (${m.instanceId ?? '-'})`],
          ['Source', `${m.source.label}, schema version ${m.schemaVersion}`],
          [
            'Restorable',
            verdict.cannotRestore
              ? 'NO: newer than this Cuttle'
              : verdict.notRestorableTo.length
                ? `yes, by this Cuttle, but not to ${verdict.notRestorableTo.join(' or ')} (old values it cannot store, below)`
                : 'yes, by this Cuttle',
          ],
          ['Key bundle', m.contents.keyBundle ? 'present' : 'absent (the key must be supplied to restore)'],
          ['Master key', key],
        ]);
        out();
        const byTable = new Map<string, boolean>();
        for (const ch of c.checks.filter((x) => x.entry.startsWith('table '))) {
          const t = ch.entry.split(' ')[1]!;
          byTable.set(t, (byTable.get(t) ?? true) && ch.ok);
        }
        outTable(
          ['Entry', 'Rows/size', 'Check'],
          [
            ...m.tables.map((t) => [`table ${t.name}`, t.rows, byTable.get(t.name) ? 'ok' : 'MISMATCH']),
            [
              `files (${m.files.length})`,
              mb(m.totals.fileBytes),
              c.checks.filter((x) => x.entry.startsWith('file ')).every((x) => x.ok) ? 'ok' : 'MISMATCH',
            ],
            ...m.entries.map((e) => [
              e.name,
              e.size,
              c.checks.find((x) => x.entry === e.name)?.ok ? 'ok' : 'MISMATCH',
            ]),
            [
              'archive checksum',
              mb(c.compressedBytes),
              c.checks.find((x) => x.entry === 'archive checksum')?.ok ? 'ok' : 'MISMATCH',
            ],
          ],
        );
        out();
        for (const v of verdict.nonPortable) out(`NOT PORTABLE ${v}`);
        for (const p of c.problems) out(`MISMATCH ${p}`);
        for (const p of problems.slice(c.problems.length)) out(`PROBLEM ${p}`);
        out(problems.length ? `Result: FAILED (${problems.length} problem(s))` : 'Result: OK');
      }
      if (!problems.length) return;
      // JSON carries the verdict itself: one document on stdout, exit 2.
      if (o.format === 'json') process.exitCode = EXIT_PRECONDITION;
      else throw verificationFailed(archive, verdict);
    });
}

/** `backup restore`: onto any engine, verified first; optionally creates and registers the instance. */
function registerRestore(backup: Command): void {
  backup
    .command('restore')
    .description(
      'restore an archive onto any engine, verified first; optionally create and register the instance',
    )
    .argument('<file>', 'the backup archive')
    .requiredOption('--storage-connection-string <cs>', 'the database to restore into')
    .option('--instance <name>', 'create (or with --overwrite, repoint) this instance')
    .option('--home <dir>', "the new instance's home folder (files go there)")
    .option('--passphrase-file <file>', "open the archive's key bundle with this passphrase")
    .option(
      '--master-key-file <file>',
      'the master key, for an archive without a key bundle (also: CUTTLE_MASTER_KEY)',
    )
    .option(
      '--overwrite',
      'replace a non-empty target (a restore point is taken first and put back on failure)',
    )
    .option('--no-database', 'restore only config, key and files, for a database that already holds the data')
    .option('--restore-point-dir <dir>', 'where the restore point is written (default: the temp folder)')
    .option('--node-name <name>', "the restored instance's node name (default: this machine's host name)")
    .option('--format <format>', 'text or json', 'text')
    .action(async (file, o) => {
      const passphrase = o.passphraseFile ? readPassphraseFile(o.passphraseFile) : undefined;
      const r = await restoreBackup({
        archive: path.resolve(file),
        target: parseConnectionString(o.storageConnectionString),
        key: { passphrase, masterKeyFile: o.masterKeyFile },
        instance: o.instance,
        home: o.home,
        overwrite: o.overwrite,
        database: o.database,
        restorePointDir: o.restorePointDir,
        nodeName: o.nodeName,
        progress: consoleProgress(),
      });
      if (o.format === 'json') return outJson(r);
      out(`Restored ${r.archive}`);
      outFields([
        ['Into', `${r.storage} (${r.engine})`],
        [
          'Tables',
          r.tables
            ? `${r.tables} (${r.rows.toLocaleString('en-US')} rows; counts and hashes match)`
            : 'not restored',
        ],
        ['Files', r.files],
        [
          'Schema',
          r.schema.archive === r.schema.now
            ? `version ${r.schema.now}`
            : `version ${r.schema.archive} -> ${r.schema.now}`,
        ],
        ['Restore point', r.restorePoint],
        ['Instance', r.instance ? `${r.instance.name} (${r.instance.configFile})` : '-'],
        ...(r.sourceNode ? [['Old node', sourceNodeText(r.sourceNode)] as [string, string]] : []),
        ['Took', `${(r.durationMs / 1000).toFixed(1)} s`],
      ]);
      if (r.nonPortable.length) {
        out();
        out(
          `Warning: ${r.nonPortable.length} old value(s) are outside the portable domain: this database holds them, another engine may not (a later move refuses until they are corrected):`,
        );
        for (const v of r.nonPortable) out(`  ${v}`);
      }
    });
}

function sourceNodeText(n: NonNullable<RestoreResult['sourceNode']>): string {
  if (n.outcome === 'retired')
    return `${n.name}: retired (if that server is started again it refuses to run)`;
  if (n.outcome === 'same-name')
    return `${n.name}: this instance has the same node name and takes its place; do not start the old server again`;
  return `${n.name}: never registered in this database, nothing to retire`;
}
