import fs from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type Instance, loadInstance } from '../../admin/instance-context.js';
import { launchMove, planMove } from '../../admin/move/move-launcher.js';
import type { MovePlan } from '../../admin/move/move-plan.js';
import { listMoves, type MoveStatus, moveLogTail, moveStatus } from '../../admin/move/move-status.js';
import { formatTarget, parseConnectionString } from '../../config/connection-string.js';
import { configPathFor } from '../../config/home-layout.js';
import { requireAdministrator } from '../../core/actor.js';
import { CuttleError, PreconditionError } from '../../lib/errors.js';
import { redactText } from '../../lib/redact.js';
import { cuttleCommand } from '../../server-process/child-command.js';
import { dialectFactory } from '../../storage/storage.js';
import { collection, DEFAULT_TAKE } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, Int, Int32, NStr, PageValue, responses, Str, StrList } from '../schemas/common-schemas.js';

const tags = ['Database move'];
const LOG_LINES = 200;

const PlanSchema = Type.Object({
  Source: Str,
  SourceEngine: Str,
  Target: Str,
  TargetEngine: NStr,
  Tables: Type.Array(Type.Object({ Name: Str, Rows: Int })),
  Steps: StrList,
  Warnings: StrList,
  Problems: Type.Array(Type.Object({ Check: Str, Code: Str, Message: Str, Fix: StrList })),
});

const MoveSchema = Type.Object({
  Id: Str,
  DryRun: Bool,
  /** Executing, Success, Failed; Planned or Failed for a dry run. */
  State: Str,
  IsCompleted: Bool,
  Phase: NStr,
  Target: Str,
  Source: NStr,
  ErrorMessage: NStr,
  /** The phase the move failed in, the error's kind (lib/errors.ts) and its code, from the journal. */
  FailedPhase: NStr,
  ErrorKind: NStr,
  ErrorCode: NStr,
  StartedAt: NStr,
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

const MoveList = Type.Object({
  ItemType: Str,
  TotalResults: Int,
  ItemsPerPage: Int,
  NumberOfPages: Int,
  LastPageNumber: Int,
  Items: Type.Array(MoveSchema),
  Links: Type.Record(Str, Str),
});

const STATE: Record<MoveStatus['state'], string> = {
  executing: 'Executing',
  success: 'Success',
  failed: 'Failed',
};

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
      Code: p.code,
      Message: redactText(p.message),
      Fix: p.fix.map(redactText),
    })),
  };
}

function moveResource(s: MoveStatus, log: string[]) {
  return {
    Id: s.moveId,
    DryRun: false,
    State: STATE[s.state],
    IsCompleted: s.state !== 'executing',
    Phase: s.phase,
    Target: s.target,
    Source: s.source ?? null,
    ErrorMessage: s.failure ? redactText(s.failure.message) : null,
    FailedPhase: s.failure?.phase ?? null,
    ErrorKind: s.failure?.kind ?? null,
    ErrorCode: s.failure?.code ?? null,
    StartedAt: s.started || null,
    TablesCopied: s.tables.copied,
    TablesVerified: s.tables.verified,
    TablesTotal: s.tables.total,
    RowsCopied: s.tables.rowsCopied,
    MaintenanceOnAt: s.maintenance.onAt ?? null,
    MaintenanceOffAt: s.maintenance.offAt ?? null,
    Finished: s.finished ?? null,
    Plan: null,
    Log: log,
    Links: { Self: `/api/admin/database-move/${s.moveId}` },
  };
}

function dryRunResource(plan: MovePlan, failure: unknown) {
  return {
    Id: plan.moveId,
    DryRun: true,
    State: plan.problems.length ? 'Failed' : 'Planned',
    IsCompleted: true,
    Phase: 'preflight',
    Target: plan.target.description,
    Source: plan.source.description,
    ErrorMessage:
      failure instanceof CuttleError ? redactText(failure.message) : failure ? 'Preflight failed.' : null,
    FailedPhase: failure ? 'preflight' : null,
    ErrorKind: failure instanceof CuttleError ? failure.kind : failure ? 'runtime' : null,
    ErrorCode: failure ? errorCode(failure) : null,
    StartedAt: null,
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

function errorCode(err: unknown): string | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

/** The instance this node serves, from the config in its home (a move needs config and key file). */
function instanceAt(home: string): Instance {
  const file = configPathFor(home);
  if (!fs.existsSync(file)) {
    throw new PreconditionError(`This server has no instance config in ${home}; move it with the CLI.`, {
      code: 'MOVE_NO_INSTANCE_CONFIG',
    });
  }
  const name = (JSON.parse(fs.readFileSync(file, 'utf8')) as { instanceName?: string }).instanceName;
  return loadInstance({ config: file, instance: name });
}

/**
 * Administrator-only database move, a thin door onto admin/move: DryRun runs preflight here and
 * returns the plan; otherwise move-launcher.ts starts the same `cuttle database move` the CLI
 * runs, detached, and the GET routes report it from its journal (move-status.ts). Connection
 * strings are only ever answered in their described form (password as ***).
 */
export function moveRoutes(app: App, deps: RouteDeps): void {
  const { home } = deps;
  const command = deps.cliCommand ?? cuttleCommand;
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
          DrainTimeoutSeconds: Type.Optional(Int32({ minimum: 0 })),
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
      if (req.body.DryRun) {
        const { plan, failure } = await planMove(inst, to);
        return dryRunResource(plan, failure);
      }
      const { moveId, plan } = await launchMove(
        inst,
        { to, drainTimeoutSeconds: req.body.DrainTimeoutSeconds, keepMaintenance: req.body.KeepMaintenance },
        command,
      );
      return reply.status(202).send({
        ...moveResource(moveStatus(home, moveId), moveLogTail(home, moveId, LOG_LINES)),
        Plan: planResource(plan),
      });
    },
  );

  app.get(
    '/api/admin/database-move',
    {
      ...admin,
      schema: {
        tags,
        summary: 'The database moves of this instance, newest first (state and phase from their journals)',
        querystring: Type.Object({
          skip: Type.Optional(PageValue),
          take: Type.Optional(PageValue),
        }),
        response: responses(MoveList),
      },
    },
    async (req) => {
      const all = listMoves(home);
      const f = { skip: req.query.skip ?? 0, take: req.query.take ?? DEFAULT_TAKE };
      const items = all.slice(f.skip, f.skip + f.take).map((s) => moveResource(s, []));
      return collection('DatabaseMove', { total: all.length, items }, f, '/api/admin/database-move');
    },
  );

  app.get(
    '/api/admin/database-move/:id',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Progress of a database move: state, phase, failure and tables from its journal, and its log',
        params: Type.Object({ id: Str }),
        response: responses(MoveSchema),
      },
    },
    async (req) => moveResource(moveStatus(home, req.params.id), moveLogTail(home, req.params.id, LOG_LINES)),
  );
}
