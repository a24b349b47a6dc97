import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type Instance, loadInstance } from '../../admin/instance-context.js';
import { moveDatabase } from '../../admin/move/move-database.js';
import { journalPath, loadJournal, type MoveJournal, newMoveId } from '../../admin/move/move-journal.js';
import type { MovePlan } from '../../admin/move/move-plan.js';
import { describeTarget, formatTarget, parseConnectionString } from '../../config/connection-string.js';
import { configPathFor } from '../../config/home-layout.js';
import { requireAdministrator } from '../../core/actor.js';
import { CuttleError, NotFoundError, PreconditionError, RuntimeFailure } from '../../lib/errors.js';
import { silentProgress } from '../../lib/progress.js';
import { redactText } from '../../lib/redact.js';
import { cuttleCommand } from '../../server-process/child-command.js';
import { pidAlive } from '../../server-process/run-files.js';
import { dialectFactory } from '../../storage/storage.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, Int, NStr, responses, Str, StrList } from '../schemas/common-schemas.js';

const tags = ['Database move'];
const MOVE_ID = /^move-[A-Za-z0-9-]{1,80}$/;
const LOG_LINES = 200;

/** How the move process is started; tests replace `command` (their argv[1] is not the CLI). */
export const moveLauncher = {
  command: cuttleCommand,
};

const PlanSchema = Type.Object({
  Source: Str,
  SourceEngine: Str,
  Target: Str,
  TargetEngine: NStr,
  Tables: Type.Array(Type.Object({ Name: Str, Rows: Int })),
  Steps: StrList,
  Warnings: StrList,
  Problems: Type.Array(Type.Object({ Check: Str, Message: Str, Fix: StrList })),
});

const MoveSchema = Type.Object({
  Id: Str,
  DryRun: Bool,
  State: Str,
  IsCompleted: Bool,
  Phase: NStr,
  Target: Str,
  Source: NStr,
  ErrorMessage: NStr,
  TablesCopied: Int,
  TablesVerified: Int,
  TablesTotal: Int,
  RowsCopied: Int,
  MaintenanceOnAt: NStr,
  MaintenanceOffAt: NStr,
  Finished: NStr,
  Plan: Type.Union([PlanSchema, Type.Null()]),
  Log: StrList,
  Links: Type.Record(Str, Str),
});

interface LaunchRecord {
  moveId: string;
  pid: number;
  started: string;
  target: string;
}

function planResource(plan: MovePlan) {
  return {
    Source: plan.source.description,
    SourceEngine: plan.source.engine,
    Target: plan.target.description,
    TargetEngine: plan.target.engine ?? null,
    Tables: plan.tables.map((t) => ({ Name: t.name, Rows: t.rows })),
    Steps: plan.steps,
    Warnings: plan.warnings.map(redactText),
    Problems: plan.problems.map((p) => ({
      Check: p.check,
      Message: redactText(p.message),
      Fix: p.fix.map(redactText),
    })),
  };
}

/** The instance this node serves, from the config in its home (a move needs config and key file). */
function instanceAt(home: string): Instance {
  const file = configPathFor(home);
  if (!fs.existsSync(file)) {
    throw new PreconditionError(`This server has no instance config in ${home}; move it with the CLI.`);
  }
  const name = (JSON.parse(fs.readFileSync(file, 'utf8')) as { instanceName?: string }).instanceName;
  return loadInstance({ config: file, instance: name });
}

function logFile(home: string, id: string): string {
  return path.join(home, 'logs', `${id}.log`);
}

function launchFile(home: string, id: string): string {
  return path.join(home, 'logs', `${id}.json`);
}

function tail(file: string, n: number): string[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).map(redactText);
}

/** Progress of a move started here: its journal (phase, tables), its process, and its log. */
export function moveStatus(home: string, id: string) {
  if (!MOVE_ID.test(id)) throw new NotFoundError(`There is no database move ${id}.`);
  const launchPath = launchFile(home, id);
  const jPath = journalPath(home, id);
  const launch = fs.existsSync(launchPath)
    ? (JSON.parse(fs.readFileSync(launchPath, 'utf8')) as LaunchRecord)
    : undefined;
  let journal: MoveJournal | undefined;
  if (fs.existsSync(jPath)) journal = loadJournal(jPath);
  if (!launch && !journal) throw new NotFoundError(`There is no database move ${id}.`);
  const log = tail(logFile(home, id), LOG_LINES);
  const running = launch ? pidAlive(launch.pid) : false;
  let state: string;
  let error: string | null = null;
  if (journal?.phase === 'done') state = 'Success';
  else if (running) state = 'Executing';
  else {
    state = 'Failed';
    error =
      journal?.failed ??
      log.findLast((l) => /error|failed|refus/i.test(l)) ??
      'The move process ended before it finished; see the log.';
  }
  const tables = Object.values(journal?.tables ?? {});
  return {
    Id: id,
    DryRun: false,
    State: state,
    IsCompleted: state !== 'Executing',
    Phase: journal?.phase ?? (running ? 'preflight' : null),
    Target: journal?.targetDescription ?? launch?.target ?? '',
    Source: journal?.sourceDescription ?? null,
    ErrorMessage: error ? redactText(error) : null,
    TablesCopied: tables.filter((t) => t.state === 'copied').length,
    TablesVerified: tables.filter((t) => t.verified).length,
    TablesTotal: tables.length,
    RowsCopied: tables.reduce((a, t) => a + (t.state === 'copied' ? (t.rows ?? 0) : 0), 0),
    MaintenanceOnAt: journal?.maintenance.onAt ?? null,
    MaintenanceOffAt: journal?.maintenance.offAt ?? null,
    Finished: journal?.finished ?? null,
    Plan: null,
    Log: log,
    Links: { Self: `/api/admin/database-move/${id}` },
  };
}

/**
 * Administrator-only database move. A move stops the server it runs in, so it runs as a detached
 * `cuttle database move` process (output in <home>/logs/<id>.log, progress in its journal
 * <home>/moves/<id>.json); the target travels in its environment, never on its command line.
 * DryRun runs preflight here and returns the plan. Connection strings are only ever answered in
 * their described form (password as ***).
 */
export function moveRoutes(app: App, deps: RouteDeps): void {
  const { home } = deps;
  const admin = {
    preHandler: async (req: FastifyRequest) => requireAdministrator(req.actor, 'move the database'),
  };

  app.post(
    '/api/admin/database-move',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Move the instance database (To: connection string). DryRun: preflight only, returns the plan',
        body: Type.Object({
          To: Str,
          DryRun: Type.Optional(Bool),
          DrainTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
          KeepMaintenance: Type.Optional(Bool),
        }),
        response: { ...responses(MoveSchema), 202: MoveSchema },
      },
    },
    async (req, reply) => {
      const target = parseConnectionString(req.body.To, home);
      // A relative SQLite path means the same file here and in the move process (cwd: the home).
      const to = dialectFactory(target.engine).databaseFile(target) ? formatTarget(target) : req.body.To;
      const inst = instanceAt(home);
      let plan: MovePlan | undefined;
      let failure: unknown;
      try {
        await moveDatabase(inst, { to, dryRun: true, yes: true }, silentProgress, {
          onPlan: (p) => {
            plan = p;
          },
        });
      } catch (err) {
        failure = err;
      }
      if (!plan) throw failure;
      if (req.body.DryRun) {
        return {
          Id: plan.moveId,
          DryRun: true,
          State: plan.problems.length ? 'Failed' : 'Planned',
          IsCompleted: true,
          Phase: 'preflight',
          Target: plan.target.description,
          Source: plan.source.description,
          ErrorMessage:
            failure instanceof CuttleError
              ? redactText(failure.message)
              : failure
                ? 'Preflight failed.'
                : null,
          TablesCopied: 0,
          TablesVerified: 0,
          TablesTotal: plan.tables.length,
          RowsCopied: 0,
          MaintenanceOnAt: null,
          MaintenanceOffAt: null,
          Finished: null,
          Plan: planResource(plan),
          Log: [],
          Links: {},
        };
      }
      if (failure) throw failure;

      const id = newMoveId();
      fs.mkdirSync(path.join(home, 'logs'), { recursive: true });
      const out = fs.openSync(logFile(home, id), 'a', 0o600);
      const args = ['database', 'move', '--yes', '--instance', inst.name, '--config', inst.configFile];
      args.push('--move-id', id);
      if (req.body.DrainTimeoutSeconds !== undefined)
        args.push('--drain-timeout', String(req.body.DrainTimeoutSeconds));
      if (req.body.KeepMaintenance) args.push('--keep-maintenance');
      const [exe, argv] = moveLauncher.command(args);
      let pid: number | undefined;
      try {
        const child = spawn(exe, argv, {
          cwd: home,
          detached: true,
          stdio: ['ignore', out, out],
          env: { ...process.env, CUTTLE_MOVE_TO: to },
        });
        child.on('error', () => {});
        pid = child.pid;
        child.unref();
      } finally {
        fs.closeSync(out);
      }
      if (!pid) throw new RuntimeFailure('The move process could not be started.');
      const launch: LaunchRecord = {
        moveId: id,
        pid,
        started: new Date().toISOString(),
        target: describeTarget(target),
      };
      fs.writeFileSync(launchFile(home, id), `${JSON.stringify(launch, null, 2)}\n`, { mode: 0o600 });
      return reply.status(202).send({ ...moveStatus(home, id), Plan: planResource(plan) });
    },
  );

  app.get(
    '/api/admin/database-move/:id',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Progress of a database move: phase and tables from its journal, and its log',
        params: Type.Object({ id: Str }),
        response: responses(MoveSchema),
      },
    },
    async (req) => moveStatus(home, req.params.id),
  );
}
