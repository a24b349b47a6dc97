import { sql } from 'kysely';
import {
  type ConnectionTarget,
  describeTarget,
  parseConnectionString,
  sameDatabase,
} from '../../config/connection-string.js';
import { getMaintenance, setMaintenance } from '../../core/maintenance-service.js';
import { nowIso } from '../../lib/clock.js';
import { type CodeOfKind, isCodeOfKind } from '../../lib/error-codes.js';
import { CuttleError, PreconditionError, RuntimeFailure, UsageError } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { migrateToLatest, schemaStatus } from '../../storage/migrator.js';
import { TABLES } from '../../storage/schema/tables.js';
import { dialectFactory, openStorage, type Storage } from '../../storage/storage.js';
import { type Instance, openCheckedStorage } from '../instance-context.js';
import { copyTables } from './copy-tables.js';
import { cutover } from './cutover.js';
import { drainTasks } from './drain.js';
import { recordEarlyFailure } from './launch-record.js';
import { failureOf } from './move-failure.js';
import { type MoveFaults, NO_MOVE_FAULTS } from './move-faults.js';
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
import { type MoveOptions, type MovePlan, type PreflightProblem, renderProblems } from './move-plan.js';
import { type PreflightResult, runPreflight } from './preflight.js';
import {
  type LocalService,
  localService,
  nodesStillRunning,
  runningNodes,
  stopLocalService,
} from './service-control.js';
import { verifyTables } from './verify-tables.js';

/** What the door that runs a move hands it. */
export interface MoveDeps {
  /**
   * Starts the local service again after the move stopped it, and says what it did; throws,
   * saying why, when it cannot. The CLI runs `cuttle service --start`. Without it a move that
   * stopped the service fails at its end (exit 3) with the command to start it.
   */
  startService?: () => Promise<string>;
  onPlan?: (plan: MovePlan) => void;
  /** Crash-test hooks (move-faults.ts); none in production. */
  faults?: MoveFaults;
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
const SERVICE_STOP_TIMEOUT_MS = 120_000;

/** One run of a move: what every step needs. */
interface MoveRun {
  inst: Instance;
  options: MoveOptions;
  progress: ProgressReporter;
  deps: MoveDeps;
  faults: MoveFaults;
  actor: string;
  /** The journal, once this run has one: from then on failures are recorded in it. */
  store?: JournalStore;
}

/** Where a run starts: a new move, or the unfinished one of this instance (--resume). */
interface MoveStart {
  moveId: string;
  target: ConnectionTarget;
  resumed?: { file: string; journal: MoveJournal };
}

/**
 * `cuttle database move`: the seed's six manual steps as one command. Each phase is journaled;
 * before cutover the source is changed only by the maintenance flag, and any failure turns that
 * back off and leaves the instance where it was. The journal records the failure (phase, message,
 * kind, code), which is what `move-status.ts` reports.
 */
export async function moveDatabase(
  inst: Instance,
  options: MoveOptions,
  progress: ProgressReporter,
  deps: MoveDeps = {},
): Promise<MoveResult> {
  const run: MoveRun = {
    inst,
    options,
    progress,
    deps,
    faults: deps.faults ?? NO_MOVE_FAULTS,
    actor: options.actor ?? 'cuttle database move',
  };
  try {
    const start = resolveStart(run);
    if (start.resumed && phaseIndex(start.resumed.journal.phase) >= phaseIndex('cutover')) {
      progress.note(`Resuming move ${start.moveId}: it had reached cutover, finishing it.`);
      const store = openJournal(run, start);
      const { source, target } = journalTargets(store.journal, inst.key, inst.config.home);
      return await finishMove(run, store, source, target);
    }
    return await copyAndCutOver(run, start);
  } catch (err) {
    // a move launched in the background (move-launcher.ts) that stopped before it had a journal
    if (!run.store && options.moveId && !options.dryRun) {
      recordEarlyFailure(inst.config.home, options.moveId, failureOf(err, 'preflight'));
    }
    throw err;
  }
}

function resolveStart(run: MoveRun): MoveStart {
  const { inst, options } = run;
  const home = inst.config.home;
  if (!options.resume) {
    if (!options.to)
      throw new UsageError('Say where to move the database: --to CONNECTION_STRING.', {
        code: 'OPTION_MISSING',
      });
    return { moveId: options.moveId ?? newMoveId(), target: parseConnectionString(options.to) };
  }
  const resumed = unfinishedJournals(home)[0];
  if (!resumed) {
    throw new PreconditionError('There is no unfinished move to resume for this instance.', {
      code: 'MOVE_NOTHING_TO_RESUME',
      hints: [`Journals live in ${home}/moves; start a move with \`cuttle database move --to CS\`.`],
    });
  }
  const j = resumed.journal;
  const { source, target } = journalTargets(j, inst.key, home);
  if (options.to && !sameDatabase(parseConnectionString(options.to), target)) {
    throw new PreconditionError(
      `The unfinished move ${j.moveId} goes to ${j.targetDescription}, not to ${describeTarget(parseConnectionString(options.to))}.`,
      {
        code: 'MOVE_RESUME_MISMATCH',
        hints: ['Run `cuttle database move --resume` without --to to continue it.'],
      },
    );
  }
  if (phaseIndex(j.phase) < phaseIndex('cutover') && !sameDatabase(source, inst.target)) {
    throw new PreconditionError(
      `The instance no longer uses ${j.sourceDescription}, the source of the unfinished move ${j.moveId}.`,
      { code: 'MOVE_RESUME_MISMATCH', hints: ['Start a new move instead of resuming this one.'] },
    );
  }
  return { moveId: j.moveId, target, resumed };
}

/** Preflight, then (unless a dry run) maintenance, drain, copy, verify and cutover, then finish. */
async function copyAndCutOver(run: MoveRun, start: MoveStart): Promise<MoveResult> {
  const { inst, options, progress, faults } = run;
  const source = await openCheckedStorage(inst.target, inst.key);
  let target: Storage | undefined;
  let store: JournalStore | undefined;
  try {
    const pre = await preflight(run, source, start);
    target = pre.targetStorage;
    const { plan } = pre;
    if (options.dryRun) {
      return {
        moveId: start.moveId,
        dryRun: true,
        plan,
        target: plan.target.description,
        tables: [],
        maintenanceLeftOn: false,
      };
    }
    if (!target)
      throw new RuntimeFailure('The target database could not be opened.', {
        code: 'MOVE_TARGET_OPEN_FAILED',
      });
    store = openJournal(run, start, { sourceDescription: source.description, pre });
    faults.at('move:after-preflight');
    await maintenanceOn(run, store, source);
    const stopped = await drainAndStop(run, store, source);
    await prepareTarget(run, store, target);
    const concurrency = options.concurrency ?? target.capabilities.defaultCopyConcurrency;
    await copyAll(run, store, source, target, plan, concurrency);
    await verifyAll(run, store, source, target, concurrency);
    await requireNoOtherNodes(inst, source, stopped);
    await cutover({
      configFile: inst.configFile,
      key: inst.key,
      store,
      source,
      target,
      targetConnection: start.target,
      progress,
      faults,
    });
  } catch (err) {
    throw await rollBack(run, err, store, source);
  } finally {
    await source.close();
    await target?.close();
  }
  return finishMove(run, store, inst.target, start.target);
}

async function preflight(run: MoveRun, source: Storage, start: MoveStart): Promise<PreflightResult> {
  const { inst, options, progress, deps } = run;
  progress.update({ step: 'preflight', message: 'checking source and target' });
  const pre = await runPreflight({
    inst,
    source,
    target: start.target,
    options,
    moveId: start.moveId,
    resumeMoveId: start.resumed?.journal.moveId,
  });
  const { plan } = pre;
  deps.onPlan?.(plan);
  if (plan.problems.length) {
    progress.update({ step: 'preflight', state: 'failed' });
    await pre.targetStorage?.close();
    // "nothing was changed" must hold: a database this preflight created to check it goes again
    if (pre.targetStorage && !plan.target.exists)
      await dialectFactory(start.target.engine)
        .dropDatabase(start.target)
        .catch(() => {});
    throw new PreconditionError(`Preflight found ${plan.problems.length} problem(s); nothing was changed.`, {
      code: preflightCode(plan.problems),
      details: renderProblems(plan.problems),
    });
  }
  progress.update({ step: 'preflight', state: 'done' });
  return pre;
}

/** One problem names the failure itself; several are MOVE_PREFLIGHT_FAILED, each code in the details. */
function preflightCode(problems: PreflightProblem[]): CodeOfKind<'precondition'> {
  const only = problems.length === 1 ? problems[0]!.code : undefined;
  return only && isCodeOfKind(only, 'precondition') ? only : 'MOVE_PREFLIGHT_FAILED';
}

/**
 * The journal of the resumed move, or of a new one (after its preflight); either way this
 * process is its runner now, and the failure of an earlier run is cleared.
 */
function openJournal(
  run: MoveRun,
  start: MoveStart,
  fresh?: { sourceDescription: string; pre: PreflightResult },
): JournalStore {
  const { inst } = run;
  let store: JournalStore;
  if (start.resumed) store = new JournalStore(start.resumed.file, start.resumed.journal);
  else if (fresh) {
    store = new JournalStore(
      journalPath(inst.config.home, start.moveId),
      newJournal({
        moveId: start.moveId,
        instance: inst.name,
        source: inst.target,
        sourceDescription: fresh.sourceDescription,
        target: start.target,
        targetDescription: describeTarget(start.target),
        targetWasEmpty: fresh.pre.targetWasEmpty,
        key: inst.key,
        tables: TABLES.map((t) => t.name),
      }),
    );
  } else throw new RuntimeFailure('The move has no journal.', { code: 'MOVE_JOURNAL_MISSING' });
  store.update((j) => {
    j.failed = undefined;
    j.failure = undefined;
    j.runner = { pid: process.pid, started: nowIso() };
  });
  run.store = store;
  return store;
}

function recordFailure(store: JournalStore, err: unknown): void {
  store.update((x) => {
    const failure = failureOf(err, x.phase);
    x.failure = failure;
    x.failed = failure.message;
  });
}

async function maintenanceOn(run: MoveRun, store: JournalStore, source: Storage): Promise<void> {
  store.update((x) => (x.phase = 'maintenance'));
  const m = await getMaintenance(source.db);
  if (!m.IsInMaintenanceMode) {
    await setMaintenance(source.db, true, run.actor);
    store.update((x) => {
      x.maintenance.setByMove = true;
      x.maintenance.onAt = nowIso();
    });
  } else if (!store.journal.maintenance.onAt) {
    store.update((x) => (x.maintenance.onAt = nowIso()));
  }
  run.progress.update({ step: 'maintenance', state: 'done', message: 'on (instance-wide)' });
  run.faults.at('move:after-maintenance');
}

/** Waits for the tasks, stops the local service (recorded, so it is started again) and checks no other node runs. */
async function drainAndStop(run: MoveRun, store: JournalStore, source: Storage): Promise<LocalService> {
  const { inst, options, progress } = run;
  store.update((x) => (x.phase = 'drain'));
  const before = localService(inst.config.home);
  await drainTasks(source.db, options.drainTimeout ?? DEFAULT_DRAIN_SECONDS, progress, before.running);
  const stopped = await stopLocalService(inst.config.home, SERVICE_STOP_TIMEOUT_MS, progress);
  if (stopped.running) store.update((x) => (x.service = { wasRunning: true, pid: stopped.pid }));
  await requireNoOtherNodes(inst, source, stopped);
  run.faults.at('move:after-drain');
  return stopped;
}

/** The schema through the migrations and the move's marker row; on resume, the marker checked. */
async function prepareTarget(run: MoveRun, store: JournalStore, target: Storage): Promise<void> {
  const { progress } = run;
  const j = store.journal;
  store.update((x) => (x.phase = 'copy'));
  if (!j.schemaCreated) {
    const st = await schemaStatus(target);
    if (st.state !== 'empty') {
      if (!j.targetWasEmpty)
        throw new PreconditionError(`The target ${j.targetDescription} is not empty.`, {
          code: 'MOVE_TARGET_NOT_EMPTY',
        });
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
        { code: 'MOVE_TARGET_CHANGED', hints: ['Start over with an empty target database.'] },
      );
    }
  }
  run.faults.at('move:after-schema');
}

async function copyAll(
  run: MoveRun,
  store: JournalStore,
  source: Storage,
  target: Storage,
  plan: MovePlan,
  concurrency: number,
): Promise<void> {
  const { progress, faults } = run;
  const rowCounts = new Map(plan.tables.map((t) => [t.name, t.rows]));
  const resume = !!run.options.resume;
  await copyTables({ source, target, store, progress, rowCounts, concurrency, resume, faults });
  faults.at('move:after-copy');
}

async function verifyAll(
  run: MoveRun,
  store: JournalStore,
  source: Storage,
  target: Storage,
  concurrency: number,
): Promise<void> {
  await run.faults.beforeVerify(target);
  store.update((x) => (x.phase = 'verify'));
  const { progress } = run;
  await verifyTables({ source, target, store, progress, concurrency: Math.max(2, concurrency) });
  run.faults.at('move:after-verify');
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
    throw new PreconditionError(`The target now holds tables that are not Cuttle's: ${foreign.join(', ')}.`, {
      code: 'MOVE_TARGET_CHANGED',
    });
  }
  for (const t of present) await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(target.db);
}

/**
 * After cutover (or when resuming one): finish cutover, maintenance off on the new database, and
 * start the service again if the move stopped it. A failure here is recorded in the journal
 * (phase `start` or `cutover`), and `--resume` finishes the move.
 */
async function finishMove(
  run: MoveRun,
  store: JournalStore | undefined,
  sourceConn: ConnectionTarget,
  targetConn: ConnectionTarget,
): Promise<MoveResult> {
  if (!store) throw new RuntimeFailure('The move has no journal.', { code: 'MOVE_JOURNAL_MISSING' });
  try {
    return await finishSteps(run, store, sourceConn, targetConn);
  } catch (err) {
    recordFailure(store, err);
    throw err;
  }
}

async function finishSteps(
  run: MoveRun,
  store: JournalStore,
  sourceConn: ConnectionTarget,
  targetConn: ConnectionTarget,
): Promise<MoveResult> {
  const { options, progress } = run;
  const j = store.journal;
  const target = await openStorage(targetConn);
  let serviceMessage: string | undefined;
  try {
    if (!j.cutover.fenced) await fenceOldDatabase(run, store, sourceConn, target, targetConn);
    store.update((x) => (x.phase = 'start'));
    if (!options.keepMaintenance) {
      const m = await getMaintenance(target.db);
      if (m.IsInMaintenanceMode) await setMaintenance(target.db, false, run.actor);
      if (!j.maintenance.offAt) store.update((x) => (x.maintenance.offAt = nowIso()));
      progress.update({ step: 'maintenance off', state: 'done', message: 'on the new database' });
    }
    if (j.service.wasRunning && !j.service.restarted) {
      serviceMessage = await restartService(run, j);
      store.update((x) => (x.service.restarted = true));
    }
    run.faults.at('move:after-start');
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

/** The rest of a cutover a crash interrupted (cutover.ts skips what it did already). */
async function fenceOldDatabase(
  run: MoveRun,
  store: JournalStore,
  sourceConn: ConnectionTarget,
  target: Storage,
  targetConn: ConnectionTarget,
): Promise<void> {
  const j = store.journal;
  const source = await openStorage(sourceConn).catch((err) => {
    throw new RuntimeFailure(
      `The move ${j.moveId} is cut over but the old database ${j.sourceDescription} cannot be reached to fence it.`,
      {
        code: 'MOVE_FENCE_UNREACHABLE',
        hints: ['Run `cuttle database move --resume` once it is reachable again.'],
        cause: err,
      },
    );
  });
  try {
    await cutover({
      configFile: run.inst.configFile,
      key: run.inst.key,
      store,
      source,
      target,
      targetConnection: targetConn,
      progress: run.progress,
      faults: run.faults,
    });
  } finally {
    await source.close();
  }
}

/** The move stopped the service, so it starts it again, or says exactly why it could not. */
async function restartService(run: MoveRun, j: MoveJournal): Promise<string> {
  const start = `cuttle service --start --instance ${run.inst.name}`;
  const hints = [
    `The instance uses ${j.targetDescription} now; start the service with \`${start}\`,`,
    'or run `cuttle database move --resume`, which starts it and finishes the move.',
  ];
  if (!run.deps.startService) {
    throw new RuntimeFailure(
      `The database move ${j.moveId} is complete, but the service it stopped was not started again: this caller cannot start it.`,
      { code: 'MOVE_RESTART_FAILED', hints },
    );
  }
  run.progress.update({ step: 'start service', message: 'starting the service again' });
  try {
    const message = await run.deps.startService();
    run.progress.update({ step: 'start service', state: 'done' });
    return message;
  } catch (err) {
    run.progress.update({ step: 'start service', state: 'failed' });
    const reason = err instanceof Error ? err.message : String(err);
    throw new RuntimeFailure(
      `The database move ${j.moveId} is complete, but the service it stopped did not start again: ${reason}`,
      {
        code: 'MOVE_RESTART_FAILED',
        hints,
        details: err instanceof CuttleError ? err.details : [],
        cause: err,
      },
    );
  }
}

/**
 * A failure before cutover: the source goes back to how it was (maintenance off, the service
 * started again), the journal records the failure, and the error says what happened.
 */
async function rollBack(
  run: MoveRun,
  err: unknown,
  store: JournalStore | undefined,
  source: Storage,
): Promise<unknown> {
  if (!store) return err;
  const { options, progress } = run;
  const j = store.journal;
  const reason = err instanceof Error ? err.message : String(err);
  // recorded once the source is back as it was: until then the move is still at work
  const record = (e: unknown) => {
    recordFailure(store, err);
    return e;
  };
  if (phaseIndex(j.phase) >= phaseIndex('cutover')) {
    return record(
      new RuntimeFailure(`The move ${j.moveId} failed during cutover: ${reason}`, {
        code: 'MOVE_CUTOVER_FAILED',
        hints: [
          'Run `cuttle database move --resume` to finish it; the data is complete on the new database.',
        ],
        cause: err,
      }),
    );
  }
  const notes: string[] = [];
  if (j.maintenance.setByMove && !options.keepMaintenance) {
    try {
      await setMaintenance(source.db, false, run.actor);
      store.update((x) => {
        x.maintenance.setByMove = false;
        x.maintenance.onAt = undefined;
      });
      notes.push('maintenance mode is off again');
    } catch {
      notes.push('maintenance mode could not be turned off: `cuttle maintenance --off`');
    }
  }
  if (j.service.wasRunning) {
    const start = `start the service again: cuttle service --start --instance ${run.inst.name}`;
    if (run.deps.startService) {
      try {
        notes.push(await run.deps.startService());
        store.update((x) => (x.service = { wasRunning: false }));
      } catch {
        notes.push(start);
      }
    } else notes.push(start);
  }
  progress.note(`The move ${j.moveId} stopped during ${j.phase}.`);
  const hints = [
    `Nothing was lost: the instance still uses ${j.sourceDescription}, which the move did not change${notes.length ? ` (${notes.join('; ')})` : ''}.`,
    'Fix the cause, then `cuttle database move --resume` continues where it stopped.',
  ];
  if (err instanceof CuttleError) {
    return record(
      new CuttleError(err.kind, err.message, {
        code: err.code,
        hints: [...err.hints, ...hints],
        details: err.details,
        cause: err,
      }),
    );
  }
  return record(
    new RuntimeFailure(`The move failed during ${j.phase}: ${reason}`, {
      code: 'MOVE_FAILED',
      hints,
      cause: err,
    }),
  );
}
