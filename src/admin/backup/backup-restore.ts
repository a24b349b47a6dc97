import os from 'node:os';
import type { ConnectionTarget } from '../../config/connection-string.js';
import { describeTarget } from '../../config/connection-string.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { CuttleError, PreconditionError, RuntimeFailure } from '../../lib/errors.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { LATEST_SCHEMA_VERSION, migrateToLatest, schemaStatus } from '../../storage/migrator.js';
import { getMeta, META } from '../../storage/repositories/metadata-repository.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import { TABLES } from '../../storage/schema/tables.js';
import { dialectFactory, openStorage, type Storage } from '../../storage/storage.js';
import { requireCanary } from '../master-key-canary.js';
import { findNodeToRetire, retireNodeRow } from '../move-server/retire-node.js';
import type { Manifest } from './archive-format.js';
import { type ArchiveHead, readArchiveHead } from './archive-head.js';
import { archiveNotPortable, describeNonPortable, refusedBy } from './archive-portable-scan.js';
import { archiveKey, type KeyInput, requireArchiveCanary } from './backup-key.js';
import { ArchiveChecker, type ArchiveContents, failsVerification, readAndVerify } from './backup-verify.js';
import { applyInstance, fileDestinations, type InstancePlan, planInstance } from './restore-instance.js';
import { loadArchive } from './restore-load.js';
import { incompleteRestoreError } from './restore-marker.js';
import { discardRestorePoint, rollBack, takeRestorePoint } from './restore-point.js';
import {
  inspectTarget,
  prepareSchema,
  removeMarker,
  requireTargetPrivileges,
  wipeTarget,
} from './restore-target.js';

export interface RestoreInput {
  archive: string;
  target: ConnectionTarget;
  key: KeyInput;
  instance?: string;
  home?: string;
  overwrite?: boolean;
  /** false: config, key and files only, for a database that already holds the data (move-server). */
  database?: boolean;
  restorePointDir?: string;
  progress?: ProgressReporter;
  /** The restored instance's node name (a new instance takes the host name otherwise). */
  nodeName?: string;
}

export interface RestoreResult {
  archive: string;
  storage: string;
  engine: string;
  tables: number;
  rows: number;
  files: number;
  schema: { archive: number; now: number };
  restorePoint: 'taken' | 'not-needed' | 'skipped-incomplete-target';
  /** Old values outside the portable domain that this target holds, but another engine would not. */
  nonPortable: string[];
  instance?: { name: string; configFile: string };
  /**
   * --no-database (a move of the server): the archive's own node, retired so that no ghost stays
   * (`retired`), or taken over by this instance because it has the same name (`same-name`).
   */
  sourceNode?: { name: string; outcome: 'retired' | 'same-name' | 'never-registered' };
  durationMs: number;
}

/**
 * `cuttle backup restore`. Everything that can refuse runs before the target is touched: the whole
 * archive is verified, the key opens the bundle and decrypts the canary, the schema is not newer
 * than this code, the target user has the privileges, the target is empty (or --overwrite), the
 * instance name and home are usable. Then, with --overwrite, a restore point of the target is
 * taken; the target gets the archive's schema version and a restore-in-progress marker, the tables
 * are bulk-loaded and re-hashed, the schema is upgraded, files and instance are written, and the
 * marker is removed last. A failure puts the restore point back; a killed process leaves the marker.
 */
export async function restoreBackup(input: RestoreInput): Promise<RestoreResult> {
  // a database this restore created is dropped again when it fails: the target ends as it began
  const created = { database: false };
  try {
    return await restore(input, created);
  } catch (err) {
    if (created.database)
      await dialectFactory(input.target.engine)
        .dropDatabase(input.target)
        .catch(() => {});
    throw err;
  }
}

async function restore(input: RestoreInput, created: { database: boolean }): Promise<RestoreResult> {
  const started = Date.now();
  const progress = input.progress ?? silentProgress;
  const withDatabase = input.database ?? true;

  // a key the one-pass attempt proved before it found the target not empty: the two-pass path
  // checks it against the verified archive's canary instead of deriving it again (scrypt)
  let proved: MasterKey | undefined;
  if (withDatabase && dialectFactory(input.target.engine).capabilities.onePassRestore) {
    const head = await readArchiveHead(input.archive);
    if (head) {
      const attempt = await restoreInOnePass(input, head, progress, started, created);
      if ('done' in attempt) return attempt.done;
      proved = attempt.key;
    }
  }

  const contents = await readAndVerify(input.archive, progress);
  if (contents.problems.length) throw failsVerification(input.archive, contents.problems);
  const manifest = contents.manifest;
  if (manifest.schemaVersion > LATEST_SCHEMA_VERSION) {
    throw new PreconditionError(
      `The backup archive has schema version ${manifest.schemaVersion}, newer than this Cuttle knows (${LATEST_SCHEMA_VERSION}).`,
      { code: 'ARCHIVE_UNSUPPORTED', hints: [`Restore it with Cuttle ${manifest.cuttleVersion} or newer.`] },
    );
  }
  if (withDatabase && !manifest.contents.database) {
    throw new PreconditionError('The backup archive holds no database (it was made with --no-database).', {
      code: 'ARCHIVE_NO_DATABASE',
      hints: ['Restore its files with --no-database onto an instance database that exists.'],
    });
  }
  const specs = tableSpecsFor(manifest);
  if (withDatabase) {
    const caps = dialectFactory(input.target.engine).capabilities;
    const refused = refusedBy(contents.nonPortable, caps);
    if (refused.length) throw archiveNotPortable(input.archive, refused, caps.displayName);
  }
  const key = proved ?? (await archiveKey(contents, input.key));
  if (proved) requireArchiveCanary(contents, proved);
  const plan = planInstance({ instance: input.instance, home: input.home, overwrite: input.overwrite });
  const destinations = manifest.contents.files ? fileDestinations(plan, contents.config) : undefined;
  if (!withDatabase && plan.kind === 'none' && !destinations) {
    throw new PreconditionError(
      'With --no-database there is nothing to restore without --instance or --home.',
      { code: 'RESTORE_NOTHING_TO_DO' },
    );
  }

  const storage = await openStorage(input.target, { create: withDatabase });
  created.database ||= storage.createdDatabase;
  try {
    let restorePoint: RestoreResult['restorePoint'] = 'not-needed';
    let sourceNode: RestoreResult['sourceNode'];
    if (withDatabase) {
      restorePoint = await restoreDatabase(storage, contents, specs, destinations, input, progress, () =>
        applyInstance(plan, input.target, key, contents.config),
      );
    } else {
      await checkExistingDatabase(storage, contents, key);
      // checked before anything is written: a source node still running refuses the restore
      sourceNode = await sourceNodeToRetire(storage, contents, plan, input.nodeName);
      await loadArchive({
        file: input.archive,
        storage: undefined,
        specs: new Map(specs.map((t) => [t.name, t])),
        manifest,
        database: false,
        fileDestinations: destinations,
        progress,
      });
      applyInstance(plan, input.target, key, contents.config, input.nodeName);
      if (sourceNode?.outcome === 'retired') {
        const name = sourceNode.name;
        await storage.db.transaction().execute((trx) =>
          retireNodeRow(trx, name, {
            by: 'cuttle backup restore --no-database',
            reason: 'the server moved: its backup was restored on another machine',
          }),
        );
      }
    }
    return {
      archive: input.archive,
      storage: describeTarget(input.target),
      engine: storage.dialect.label,
      tables: withDatabase ? manifest.tables.length : 0,
      rows: withDatabase ? manifest.totals.rows : 0,
      files: destinations ? manifest.files.length : 0,
      schema: { archive: manifest.schemaVersion, now: (await schemaStatus(storage)).version },
      restorePoint,
      nonPortable: describeNonPortable(contents.nonPortable),
      instance: plan.kind === 'none' ? undefined : { name: plan.name, configFile: plan.configFile },
      sourceNode,
      durationMs: Date.now() - started,
    };
  } finally {
    await storage.close();
  }
}

/**
 * What a move of the server does with the node the archive was made on: retire it when this
 * instance runs under another name (refused, before anything is written, while it still sends
 * heartbeats: stop the old server first), nothing when the names are the same (this node takes
 * its row over).
 */
async function sourceNodeToRetire(
  storage: Storage,
  contents: ArchiveContents,
  plan: InstancePlan,
  nodeName: string | undefined,
): Promise<RestoreResult['sourceNode']> {
  const name = contents.config?.sourceNodeName;
  if (!name || plan.kind === 'none') return undefined;
  const own = nodeName ?? (plan.kind === 'existing' ? plan.config.nodeName : os.hostname());
  if (own === name) return { name, outcome: 'same-name' };
  try {
    await findNodeToRetire(storage.db, name);
  } catch (err) {
    if (err instanceof CuttleError && err.code === 'NODE_NOT_FOUND')
      return { name, outcome: 'never-registered' };
    if (err instanceof CuttleError && err.code === 'NODE_RUNNING') {
      throw new PreconditionError(
        `The archive was made on node "${name}", which is still running against this database: a move of the server retires it, so it must be stopped first.`,
        {
          code: 'NODE_RUNNING',
          hints: [
            `On the old server: cuttle service --stop, then run this restore again.`,
            'If that machine is gone, wait until its heartbeat is older than 15 seconds.',
          ],
        },
      );
    }
    throw err;
  }
  return { name, outcome: 'retired' };
}

/**
 * A restore of a keyFirst archive (ArchiveHeader.keyFirst) into an empty PostgreSQL or MySQL
 * database reads the archive once instead of twice: the key is proved from the archive's first
 * entries before anything is written, then every entry is checked as it is loaded, and anything
 * that does not match the manifest at the end (or a damaged archive on the way) empties the target
 * again, so it ends as it began. A target that is not empty (which `--overwrite` would replace
 * after taking a restore point), an older schema and SQLite (whose free-space check needs the
 * manifest's sizes) take the two-pass path, which verifies the whole archive before touching the
 * target. Returns `{ done }` when it restored; otherwise what the two-pass path takes over: the key
 * once it was proved (the target was not empty).
 */
async function restoreInOnePass(
  input: RestoreInput,
  head: ArchiveHead,
  progress: ProgressReporter,
  started: number,
  created: { database: boolean },
): Promise<{ done: RestoreResult } | { key?: MasterKey }> {
  const { header } = head;
  if (header.schemaVersion !== LATEST_SCHEMA_VERSION || !header.contents?.database || !header.rowCounts) {
    return {};
  }
  const key = await archiveKey(head, input.key);
  const plan = planInstance({ instance: input.instance, home: input.home, overwrite: input.overwrite });
  const destinations = header.contents.files ? fileDestinations(plan, head.config) : undefined;
  const names = TABLES.map((t) => t.name);
  const storage = await openStorage(input.target, { create: true });
  created.database = storage.createdDatabase;
  try {
    await requireTargetPrivileges(storage);
    const state = await inspectTarget(storage, names);
    if (!state.empty) return { key };
    await prepareSchema(storage, LATEST_SCHEMA_VERSION, TABLES, {
      archive: input.archive,
      started: new Date().toISOString(),
      pid: process.pid,
    });
    let contents: ArchiveContents;
    try {
      contents = (await loadArchive({
        file: input.archive,
        storage,
        specs: new Map(TABLES.map((t) => [t.name, t])),
        manifest: undefined,
        database: true,
        fileDestinations: destinations,
        progress,
        single: { checker: new ArchiveChecker(input.archive), rowCounts: header.rowCounts },
      }))!;
      tableSpecsFor(contents.manifest);
      applyInstance(plan, input.target, key, contents.config);
      await removeMarker(storage);
    } catch (err) {
      await undo(storage, err, undefined, true, names, progress);
      throw err;
    }
    const manifest = contents.manifest;
    const done: RestoreResult = {
      archive: input.archive,
      storage: describeTarget(input.target),
      engine: storage.dialect.label,
      tables: manifest.tables.length,
      rows: manifest.totals.rows,
      files: destinations ? manifest.files.length : 0,
      schema: { archive: manifest.schemaVersion, now: (await schemaStatus(storage)).version },
      restorePoint: 'not-needed',
      nonPortable: describeNonPortable(contents.nonPortable),
      instance: plan.kind === 'none' ? undefined : { name: plan.name, configFile: plan.configFile },
      durationMs: Date.now() - started,
    };
    return { done };
  } finally {
    await storage.close();
  }
}

async function restoreDatabase(
  storage: Storage,
  contents: ArchiveContents,
  specs: TableSpec[],
  destinations: Map<string, string> | undefined,
  input: RestoreInput,
  progress: ProgressReporter,
  writeInstance: () => void,
): Promise<RestoreResult['restorePoint']> {
  const names = specs.map((t) => t.name);
  await requireTargetPrivileges(storage);
  const state = await inspectTarget(storage, [...new Set([...names, ...TABLES.map((t) => t.name)])]);
  if (state.foreign.length) {
    throw new PreconditionError(
      `The database at ${storage.description} holds tables that are not Cuttle's; nothing was restored.`,
      {
        code: 'DATABASE_NOT_CUTTLE',
        details: state.foreign.slice(0, 10),
        hints: ['Restore into an empty database of its own.'],
      },
    );
  }
  if (!state.empty && !input.overwrite) {
    throw new PreconditionError(
      `The database at ${storage.description} is not empty; nothing was restored.`,
      {
        code: 'RESTORE_TARGET_NOT_EMPTY',
        hints: [
          'Restore into an empty database, or add --overwrite to replace it (a restore point is taken first).',
        ],
      },
    );
  }
  if (state.status.state === 'newer') {
    throw new PreconditionError(
      `The database at ${storage.description} has a newer Cuttle schema (${state.status.version}); this Cuttle will not overwrite it.`,
      { code: 'SCHEMA_TOO_NEW' },
    );
  }
  // where the engine can see the room its files have (a file database; undefined for a server)
  const free = await storage.dialect.freeSpace(storage.db);
  const need = contents.manifest.totals.tableBytes * 1.5;
  if (free !== undefined && free < need) {
    throw new PreconditionError(
      `The folder of ${storage.description} has ${mb(free)} free; the restore needs about ${mb(need)}.`,
      { code: 'DISK_SPACE_LOW' },
    );
  }

  let restorePoint: RestoreResult['restorePoint'] = 'not-needed';
  let pointFile: string | undefined;
  if (!state.empty && state.ours.length) {
    if (state.marker) {
      restorePoint = 'skipped-incomplete-target';
      progress.note('The target holds an incomplete restore: no restore point is taken, it is replaced.');
    } else if (state.status.state === 'current') {
      progress.note('Taking a restore point of the target first.');
      pointFile = await takeRestorePoint(storage, input.restorePointDir, progress);
      restorePoint = 'taken';
    } else {
      throw new PreconditionError(
        `The database at ${storage.description} has an older schema (${state.status.version}); a restore point cannot be taken.`,
        {
          code: 'SCHEMA_OUTDATED',
          hints: ['Upgrade it with `cuttle database upgrade` first, or restore into an empty database.'],
        },
      );
    }
  }

  try {
    await wipeTarget(storage, names);
    await prepareSchema(storage, contents.manifest.schemaVersion, specs, {
      archive: input.archive,
      started: new Date().toISOString(),
      pid: process.pid,
    });
    await loadArchive({
      file: input.archive,
      storage,
      specs: new Map(specs.map((t) => [t.name, t])),
      manifest: contents.manifest,
      database: true,
      fileDestinations: destinations,
      progress,
    });
    if (contents.manifest.schemaVersion < LATEST_SCHEMA_VERSION) {
      const r = await migrateToLatest(storage);
      progress.note(`Upgraded the restored schema from version ${r.from} to ${r.to}.`);
    }
    writeInstance();
    await removeMarker(storage);
  } catch (err) {
    await undo(storage, err, pointFile, state.empty, names, progress);
    throw err;
  }
  discardRestorePoint(pointFile);
  return restorePoint;
}

async function undo(
  storage: Storage,
  err: unknown,
  pointFile: string | undefined,
  wasEmpty: boolean,
  names: string[],
  progress: ProgressReporter,
): Promise<void> {
  const why = err instanceof Error ? err.message : String(err);
  try {
    if (pointFile) {
      progress.note(`The restore failed (${why}); putting the restore point back.`);
      await rollBack(storage, pointFile, TABLES, progress);
      discardRestorePoint(pointFile);
      progress.note('The target is back as it was before the restore.');
    } else if (wasEmpty) {
      await wipeTarget(storage, names);
      progress.note('The restore failed; the target is empty again.');
    }
  } catch (rollbackErr) {
    const msg = rollbackErr instanceof Error ? rollbackErr.message : String(rollbackErr);
    throw new RuntimeFailure(`The restore failed (${why}) and so did putting the target back (${msg}).`, {
      code: 'RESTORE_ROLLBACK_FAILED',
      hints: pointFile ? [`The restore point is kept in ${pointFile}; restore it with --overwrite.`] : [],
      cause: err instanceof CuttleError ? err : undefined,
    });
  }
}

/** --no-database: the database must be this archive's instance, current, with the same key. */
async function checkExistingDatabase(
  storage: Storage,
  contents: ArchiveContents,
  key: Parameters<typeof requireCanary>[1],
): Promise<void> {
  const status = await schemaStatus(storage);
  if (status.state !== 'current') {
    throw new PreconditionError(
      `The database at ${storage.description} has schema state "${status.state}" (version ${status.version}); --no-database needs a current Cuttle database.`,
      { code: 'SCHEMA_OUTDATED' },
    );
  }
  const marker = await getMeta(storage.db, 'restore-in-progress');
  if (marker) throw incompleteRestoreError(JSON.parse(marker), storage.description);
  await requireCanary(storage.db, key, storage.description);
  const id = await getMeta(storage.db, META.instanceId);
  if (contents.manifest.instanceId && id !== contents.manifest.instanceId) {
    throw new PreconditionError(
      `The database at ${storage.description} belongs to instance ${id ?? '(none)'}, the archive to ${contents.manifest.instanceId}.`,
      { code: 'ARCHIVE_OTHER_INSTANCE' },
    );
  }
}

/** The table list at the archive's schema version: the code's own for the newest, the manifest's otherwise. */
function tableSpecsFor(manifest: Manifest): TableSpec[] {
  if (manifest.schemaVersion === LATEST_SCHEMA_VERSION) {
    // by name: archives list their tables largest first (backup-create.ts)
    const byName = new Map(manifest.tables.map((t) => [t.name, t]));
    const same =
      manifest.tables.length === TABLES.length &&
      TABLES.every((s) => {
        const t = byName.get(s.name);
        return (
          t !== undefined &&
          JSON.stringify(t.primaryKey) === JSON.stringify(s.primaryKey) &&
          JSON.stringify(t.columns.map((c) => [c.name, c.type])) ===
            JSON.stringify(s.columns.map((c) => [c.name, c.type]))
        );
      });
    if (manifest.contents.database && !same) {
      throw new PreconditionError(
        `The archive's tables do not match schema version ${manifest.schemaVersion} of this Cuttle.`,
        { code: 'ARCHIVE_UNSUPPORTED' },
      );
    }
    return TABLES;
  }
  return manifest.tables.map((t) => ({ name: t.name, columns: t.columns, primaryKey: t.primaryKey }));
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(0)} MB`;
}
