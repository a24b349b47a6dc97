import { sql } from 'kysely';
import {
  type ConnectionTarget,
  describeTarget,
  parseConnectionString,
  sameDatabase,
} from '../../config/connection-string.js';
import { getMaintenance, setMaintenance } from '../../core/maintenance-service.js';
import { nowIso } from '../../lib/clock.js';
import { CuttleError, PreconditionError, RuntimeFailure, UsageError } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { migrateToLatest, schemaStatus } from '../../storage/migrator.js';
import { TABLES } from '../../storage/schema/tables.js';
import { openStorage, type Storage } from '../../storage/storage.js';
import { type Instance, openCheckedStorage } from '../instance-context.js';
import { copyTables } from './copy-tables.js';
import { corruptOneRow } from './corrupt-row.js';
import { cutover } from './cutover.js';
import { drainTasks } from './drain.js';
import { corruptTable, faultPoint } from './move-faults.js';
import {
  JournalStore,
  journalPath,
  journalTargets,
  type MoveJournal,
  newJournal,
  newMoveId,
  phaseIndex,
  readTargetMarker,
  unfinishedJournals,
  writeTargetMarker,
} from './move-journal.js';
import { type MoveOptions, type MovePlan, renderProblems } from './move-plan.js';
import { runPreflight } from './preflight.js';
import {
  type LocalService,
  localService,
  nodesStillRunning,
  runningNodes,
  stopLocalService,
} from './service-control.js';
import { verifyTables } from './verify-tables.js';

export interface MoveHooks {
  /** Starts the service again (the CLI spawns it); returns what to tell the user. */
  startService?: () => Promise<string>;
  onPlan?: (plan: MovePlan) => void;
}

export interface MoveResult {
  moveId: string;
  dryRun: boolean;
  plan?: MovePlan;
  journalFile?: string;
  target: string;
  tables: { name: string; rows: number; sha256: string }[];
  downtimeMs?: number;
  maintenanceLeftOn: boolean;
  service?: string;
}

const DEFAULT_DRAIN_SECONDS = 300;

/**
 * `cuttle database move`: the seed's six manual steps as one command. Each phase is journaled;
 * before cutover the source is changed only by the maintenance flag, and any failure turns that
 * back off and leaves the instance where it was.
 */
export async function moveDatabase(
  inst: Instance,
  options: MoveOptions,
  progress: ProgressReporter,
  hooks: MoveHooks = {},
): Promise<MoveResult> {
  const home = inst.config.home;
  let resumed: { file: string; journal: MoveJournal } | undefined;
  let targetConn: ConnectionTarget;
  if (options.resume) {
    resumed = unfinishedJournals(home)[0];
    if (!resumed) {
      throw new PreconditionError('There is no unfinished move to resume for this instance.', {
        hints: [`Journals live in ${home}/moves; start a move with \`cuttle database move --to CS\`.`],
      });
    }
    const j = resumed.journal;
    const { source, target } = journalTargets(j, inst.key, home);
    targetConn = target;
    if (options.to && !sameDatabase(parseConnectionString(options.to), target)) {
      throw new PreconditionError(
        `The unfinished move ${j.moveId} goes to ${j.targetDescription}, not to ${describeTarget(parseConnectionString(options.to))}.`,
        { hints: ['Run `cuttle database move --resume` without --to to continue it.'] },
      );
    }
    if (phaseIndex(j.phase) >= phaseIndex('cutover')) {
      progress.note(`Resuming move ${j.moveId}: it had reached cutover, finishing it.`);
      return finishMove(inst, new JournalStore(resumed.file, j), source, target, options, progress, hooks);
    }
    if (!sameDatabase(source, inst.target)) {
      throw new PreconditionError(
        `The instance no longer uses ${j.sourceDescription}, the source of the unfinished move ${j.moveId}.`,
        { hints: ['Start a new move instead of resuming this one.'] },
      );
    }
  } else {
    if (!options.to) throw new UsageError('Say where to move the database: --to CONNECTION_STRING.');
    targetConn = parseConnectionString(options.to);
  }
  const moveId = resumed?.journal.moveId ?? options.moveId ?? newMoveId();

  const source = await openCheckedStorage(inst.target, inst.key);
  let target: Storage | undefined;
  let store: JournalStore | undefined;
  try {
    progress.update({ step: 'preflight', message: 'checking source and target' });
    const pre = await runPreflight({
      inst,
      source,
      target: targetConn,
      options,
      moveId,
      resumeMoveId: resumed?.journal.moveId,
    });
    target = pre.targetStorage;
    const { plan } = pre;
    hooks.onPlan?.(plan);
    if (plan.problems.length) {
      progress.update({ step: 'preflight', state: 'failed' });
      throw new PreconditionError(
        `Preflight found ${plan.problems.length} problem(s); nothing was changed.`,
        { details: renderProblems(plan.problems) },
      );
    }
    progress.update({ step: 'preflight', state: 'done' });
    if (options.dryRun) {
      return {
        moveId,
        dryRun: true,
        plan,
        target: plan.target.description,
        tables: [],
        maintenanceLeftOn: false,
      };
    }
    if (!target) throw new RuntimeFailure('The target database could not be opened.');
    store = resumed
      ? new JournalStore(resumed.file, resumed.journal)
      : new JournalStore(
          journalPath(home, moveId),
          newJournal({
            moveId,
            instance: inst.name,
            source: inst.target,
            sourceDescription: source.description,
            target: targetConn,
            targetDescription: describeTarget(targetConn),
            targetWasEmpty: pre.targetWasEmpty,
            key: inst.key,
            tables: TABLES.map((t) => t.name),
          }),
        );
    store.update((j) => (j.failed = undefined));
    faultPoint('after-preflight');
    await copyPhases(inst, store, source, target, plan, options, progress);
    await cutover({
      configFile: inst.configFile,
      key: inst.key,
      store,
      source,
      target,
      targetConnection: targetConn,
      progress,
    });
  } catch (err) {
    throw await rollBack(err, store, source, options, progress, hooks);
  } finally {
    await source.close();
    await target?.close();
  }
  return finishMove(inst, store, inst.target, targetConn, options, progress, hooks);
}

async function copyPhases(
  inst: Instance,
  store: JournalStore,
  source: Storage,
  target: Storage,
  plan: MovePlan,
  options: MoveOptions,
  progress: ProgressReporter,
): Promise<void> {
  const actor = options.actor ?? 'cuttle database move';
  const j = store.journal;
  store.update((x) => (x.phase = 'maintenance'));
  const m = await getMaintenance(source.db);
  if (!m.IsInMaintenanceMode) {
    await setMaintenance(source.db, true, actor);
    store.update((x) => {
      x.maintenance.setByMove = true;
      x.maintenance.onAt = nowIso();
    });
  } else if (!j.maintenance.onAt) {
    store.update((x) => (x.maintenance.onAt = nowIso()));
  }
  progress.update({ step: 'maintenance', state: 'done', message: 'on (instance-wide)' });
  faultPoint('after-maintenance');

  store.update((x) => (x.phase = 'drain'));
  const before = localService(inst.config.home);
  await drainTasks(source.db, options.drainTimeout ?? DEFAULT_DRAIN_SECONDS, progress, before.running);
  const stopped = await stopLocalService(inst.config.home, 120_000, progress);
  if (stopped.running) store.update((x) => (x.service = { wasRunning: true, pid: stopped.pid }));
  await requireNoOtherNodes(inst, source, stopped);
  faultPoint('after-drain');

  store.update((x) => (x.phase = 'copy'));
  if (!j.schemaCreated) {
    const st = await schemaStatus(target);
    if (st.state !== 'empty') {
      if (!j.targetWasEmpty) throw new PreconditionError(`The target ${j.targetDescription} is not empty.`);
      await dropOwnTables(target);
    }
    progress.update({ step: 'schema', message: 'creating the schema on the target' });
    await migrateToLatest(target);
    await writeTargetMarker(target.db, j.moveId, j.sourceDescription);
    store.update((x) => (x.schemaCreated = true));
    progress.update({ step: 'schema', state: 'done' });
  } else {
    const marker = await readTargetMarker(target.db);
    if (marker !== j.moveId) {
      throw new PreconditionError(
        `The target ${j.targetDescription} no longer carries the marker of move ${j.moveId}: something else changed it.`,
        { hints: ['Start over with an empty target database.'] },
      );
    }
  }
  faultPoint('after-schema');
  const concurrency = options.concurrency ?? (target.engine === 'sqlite' ? 1 : 2);
  const rowCounts = new Map(plan.tables.map((t) => [t.name, t.rows]));
  await copyTables({ source, target, store, progress, rowCounts, concurrency, resume: !!options.resume });
  faultPoint('after-copy');
  const corrupt = corruptTable();
  if (corrupt && !corrupt.early) await corruptOneRow(target, corrupt.table);

  store.update((x) => (x.phase = 'verify'));
  await verifyTables({ source, target, store, progress, concurrency: Math.max(2, concurrency) });
  faultPoint('after-verify');
  await requireNoOtherNodes(inst, source, stopped);
}

/** The local node (stopped just now, so its last heartbeat is still fresh) is not "another node". */
async function requireNoOtherNodes(inst: Instance, source: Storage, stopped: LocalService): Promise<void> {
  const localDown = !localService(inst.config.home).running;
  const others = await runningNodes(source.db, {
    ids: stopped.nodeId ? [stopped.nodeId] : [],
    names: localDown ? [inst.config.nodeName, ...(stopped.nodeName ? [stopped.nodeName] : [])] : [],
  });
  if (others.length) throw nodesStillRunning(others);
}

/** A target that preflight found empty holds only what this move created: drop it and start clean. */
async function dropOwnTables(target: Storage): Promise<void> {
  const own = new Set([...TABLES.map((t) => t.name), 'cuttle_migrations', 'cuttle_migration_lock']);
  const present = await target.dialect.listTables(target.db);
  const foreign = present.filter((t) => !own.has(t));
  if (foreign.length) {
    throw new PreconditionError(`The target now holds tables that are not Cuttle's: ${foreign.join(', ')}.`);
  }
  for (const t of present) await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(target.db);
}

/** After cutover (or when resuming one): finish cutover, maintenance off on the new database, start. */
async function finishMove(
  inst: Instance,
  store: JournalStore | undefined,
  sourceConn: ConnectionTarget,
  targetConn: ConnectionTarget,
  options: MoveOptions,
  progress: ProgressReporter,
  hooks: MoveHooks,
): Promise<MoveResult> {
  if (!store) throw new RuntimeFailure('The move has no journal.');
  const j = store.journal;
  const actor = options.actor ?? 'cuttle database move';
  const target = await openStorage(targetConn);
  let serviceMessage: string | undefined;
  try {
    if (!j.cutover.fenced) {
      const source = await openStorage(sourceConn).catch((err) => {
        throw new RuntimeFailure(
          `The move ${j.moveId} is cut over but the old database ${j.sourceDescription} cannot be reached to fence it.`,
          { hints: ['Run `cuttle database move --resume` once it is reachable again.'], cause: err },
        );
      });
      try {
        await cutover({
          configFile: inst.configFile,
          key: inst.key,
          store,
          source,
          target,
          targetConnection: targetConn,
          progress,
        });
      } finally {
        await source.close();
      }
    }
    store.update((x) => (x.phase = 'start'));
    if (!options.keepMaintenance) {
      const m = await getMaintenance(target.db);
      if (m.IsInMaintenanceMode) await setMaintenance(target.db, false, actor);
      if (!j.maintenance.offAt) store.update((x) => (x.maintenance.offAt = nowIso()));
      progress.update({ step: 'maintenance off', state: 'done', message: 'on the new database' });
    }
    if (j.service.wasRunning && !j.service.restarted) {
      serviceMessage = hooks.startService
        ? await hooks.startService()
        : `Start the service again: cuttle service --start --instance ${inst.name}`;
      store.update((x) => (x.service.restarted = true));
    }
    faultPoint('after-start');
    store.update((x) => {
      x.phase = 'done';
      x.finished = nowIso();
    });
  } finally {
    await target.close();
  }
  const end = j.maintenance.offAt ?? j.finished!;
  return {
    moveId: j.moveId,
    dryRun: false,
    journalFile: store.file,
    target: j.targetDescription,
    tables: TABLES.map((t) => ({
      name: t.name,
      rows: j.tables[t.name]?.rows ?? 0,
      sha256: j.tables[t.name]?.sha256 ?? '',
    })),
    downtimeMs: j.maintenance.onAt ? Date.parse(end) - Date.parse(j.maintenance.onAt) : undefined,
    maintenanceLeftOn: !!options.keepMaintenance,
    service: serviceMessage,
  };
}

/** A failure before cutover: the source goes back to how it was, and the error says so. */
async function rollBack(
  err: unknown,
  store: JournalStore | undefined,
  source: Storage,
  options: MoveOptions,
  progress: ProgressReporter,
  hooks: MoveHooks,
): Promise<unknown> {
  if (!store) return err;
  const j = store.journal;
  const reason = err instanceof Error ? err.message : String(err);
  store.update((x) => (x.failed = reason));
  if (phaseIndex(j.phase) >= phaseIndex('cutover')) {
    return new RuntimeFailure(`The move ${j.moveId} failed during cutover: ${reason}`, {
      hints: ['Run `cuttle database move --resume` to finish it; the data is complete on the new database.'],
      cause: err,
    });
  }
  const notes: string[] = [];
  if (j.maintenance.setByMove && !options.keepMaintenance) {
    try {
      await setMaintenance(source.db, false, options.actor ?? 'cuttle database move');
      store.update((x) => {
        x.maintenance.setByMove = false;
        x.maintenance.onAt = undefined;
      });
      notes.push('maintenance mode is off again');
    } catch {
      notes.push('maintenance mode could not be turned off: `cuttle maintenance --off`');
    }
  }
  if (j.service.wasRunning && hooks.startService) {
    try {
      notes.push(await hooks.startService());
      store.update((x) => (x.service = { wasRunning: false }));
    } catch {
      notes.push(`start the service again: cuttle service --start`);
    }
  }
  progress.note(`The move ${j.moveId} stopped during ${j.phase}.`);
  const hints = [
    `Nothing was lost: the instance still uses ${j.sourceDescription}, which the move did not change${notes.length ? ` (${notes.join('; ')})` : ''}.`,
    'Fix the cause, then `cuttle database move --resume` continues where it stopped.',
  ];
  if (err instanceof CuttleError) {
    return new CuttleError(err.kind, err.message, {
      code: err.code,
      hints: [...err.hints, ...hints],
      details: err.details,
      cause: err,
    });
  }
  return new RuntimeFailure(`The move failed during ${j.phase}: ${reason}`, { hints, cause: err });
}
