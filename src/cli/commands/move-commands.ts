import { spawn } from 'node:child_process';
import { type Command, Option } from '@commander-js/extra-typings';
import { type InstanceRef, loadInstance } from '../../admin/instance-context.js';
import { moveDatabase } from '../../admin/move/move-database.js';
import { isMoveId } from '../../admin/move/move-journal.js';
import { renderPlan } from '../../admin/move/move-plan.js';
import { listMoves, type MoveStatus, moveStatus } from '../../admin/move/move-status.js';
import { unfenceDatabase } from '../../admin/move/unfence.js';
import { type ConnectionTarget, parseConnectionString } from '../../config/connection-string.js';
import { suppliedKey } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError, RuntimeFailure, UsageError } from '../../lib/errors.js';
import { consoleProgress } from '../../lib/progress.js';
import { instanceArgs } from '../../server-process/background-service.js';
import { cuttleCommand } from '../../server-process/child-command.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from '../cli-context.js';
import { intOption, withInstance } from '../instance-options.js';
import { out, outFields, outJson, outTable } from '../output.js';

function duration(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/**
 * Starts the service again through `cuttle service --start`, the same command an admin runs
 * (systemd or the background supervisor, whichever this machine uses), and says what it did; a
 * failure says why, with that command's own error.
 */
function serviceStarter(ref: InstanceRef): () => Promise<string> {
  return () =>
    new Promise<string>((resolve, reject) => {
      const [exe, argv] = cuttleCommand(['service', '--start', '--format', 'json', ...instanceArgs(ref)]);
      // the service keeps running: it does not get the target's connection string the REST API handed over
      const env = { ...process.env };
      delete env.CUTTLE_MOVE_TO;
      const child = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (e) =>
        reject(
          new RuntimeFailure(`\`cuttle service --start\` could not be run: ${e.message}`, {
            code: 'SERVICE_START_FAILED',
          }),
        ),
      );
      child.on('close', (code) => {
        if (code !== 0) {
          const lines = stderr.trim().split('\n').filter(Boolean);
          const first = lines[0]?.replace(/^Error: /, '') ?? 'no output';
          reject(
            new RuntimeFailure(`\`cuttle service --start\` exited with ${code}: ${first}`, {
              code: 'SERVICE_START_FAILED',
              details: lines.slice(1, 12),
            }),
          );
          return;
        }
        try {
          const r = JSON.parse(stdout) as { pid: number; url: string; alreadyRunning?: boolean };
          resolve(
            r.alreadyRunning
              ? `The service was running already (pid ${r.pid}) at ${r.url}.`
              : `The service was started again (pid ${r.pid}) at ${r.url}.`,
          );
        } catch {
          resolve('The service was started again.');
        }
      });
    });
}

function describeStatus(s: MoveStatus): [string, string | number | undefined][] {
  const state = s.state === 'failed' ? `failed during ${s.failure?.phase ?? s.phase}` : s.state;
  return [
    ['Move', s.moveId],
    ['State', state],
    ['Phase', s.phase ?? '-'],
    ['Target', s.target],
    ['Source', s.source],
    ['Started', s.started],
    ['Finished', s.finished],
    ['Tables', `${s.tables.copied}/${s.tables.total} copied, ${s.tables.verified} verified`],
    [
      'Error',
      s.failure
        ? `${s.failure.message} (${s.failure.kind}${s.failure.code ? `, ${s.failure.code}` : ''})`
        : undefined,
    ],
    ['Log', s.logFile],
  ];
}

/** `--status [ID]` and `--list`: what move-status.ts reads from the journals (the REST API shows the same). */
function showMoves(home: string, o: { status?: string | true; list?: boolean; format?: string }): void {
  if (o.list) {
    const all = listMoves(home);
    if (o.format === 'json') outJson(all);
    else if (!all.length) out('No database moves for this instance.');
    else {
      outTable(
        ['MOVE', 'STATE', 'PHASE', 'TARGET', 'STARTED'],
        all.map((s) => [s.moveId, s.state, s.phase ?? '-', s.target, s.started]),
      );
    }
    return;
  }
  const id = typeof o.status === 'string' ? o.status : listMoves(home)[0]?.moveId;
  if (!id) out('No database moves for this instance.');
  else if (o.format === 'json') outJson(moveStatus(home, id));
  else outFields(describeStatus(moveStatus(home, id)));
}

export function registerMoveCommands(database: Command, { faults }: CliContext = DEFAULT_CLI_CONTEXT) {
  withInstance(database.command('move'))
    .description('move the instance database to another server or engine: verified, resumable, one command')
    .option('--to <cs>', 'connection string of the new (empty) database')
    .option('--dry-run', 'run the preflight checks and print the plan; change nothing')
    .option('--resume', 'continue the unfinished move of this instance from its journal')
    .option('--yes', 'confirm the master key is saved (see `cuttle show-master-key`)')
    .option('--key-bundle <file>', 'write the master key, sealed with a passphrase, to this file first')
    .option('--passphrase-file <file>', 'the passphrase for --key-bundle')
    .option(
      '--drain-timeout <seconds>',
      'how long to wait for running tasks (default 300)',
      intOption('--drain-timeout'),
    )
    .option('--keep-maintenance', 'leave maintenance mode on when the move is done')
    .option(
      '--concurrency <n>',
      'tables copied at once (default 2; 1 for a SQLite target)',
      intOption('--concurrency', 1),
    )
    .option('--status [id]', "show the newest move's state (or move ID's) from its journal; change nothing")
    .option('--list', 'list the moves of this instance, newest first; change nothing')
    .option('--format <format>', 'text or json', 'text')
    .addOption(new Option('--move-id <id>', 'the id of the move (the REST API picks it)').hideHelp())
    .action(async (o) => {
      if (o.moveId !== undefined && !isMoveId(o.moveId))
        throw new UsageError('--move-id must look like move-20250101T020000-abc123.', {
          code: 'OPTION_INVALID',
        });
      if (typeof o.status === 'string' && !isMoveId(o.status))
        throw new UsageError('--status takes a move id like move-20250101T020000-abc123.', {
          code: 'OPTION_INVALID',
        });
      const inst = loadInstance(o);
      if (o.status || o.list) return showMoves(inst.config.home, o);
      const progress = consoleProgress();
      const r = await moveDatabase(
        inst,
        {
          // CUTTLE_MOVE_TO: how the REST API hands over the target, kept off the process list.
          to: o.to ?? (o.resume ? undefined : process.env.CUTTLE_MOVE_TO),
          moveId: o.moveId,
          dryRun: o.dryRun,
          resume: o.resume,
          yes: o.yes,
          keyBundleFile: o.keyBundle,
          passphraseFile: o.passphraseFile,
          drainTimeout: o.drainTimeout,
          keepMaintenance: o.keepMaintenance,
          concurrency: o.concurrency,
        },
        progress,
        {
          onPlan: (plan) => {
            if (o.format !== 'json' && (o.dryRun || plan.problems.length))
              for (const l of renderPlan(plan)) out(l);
            else if (o.format !== 'json') for (const w of plan.warnings) progress.note(`Warning: ${w}`);
          },
          startService: serviceStarter(o),
          faults,
        },
      );
      if (o.format === 'json') return outJson(r);
      if (r.dryRun) {
        out('Preflight passed. Dry run: nothing was changed.');
        return;
      }
      outTable(
        ['TABLE', 'ROWS', 'SHA-256'],
        r.tables.map((t) => [t.name, t.rows, t.sha256.slice(0, 16)]),
      );
      out(`Moved to ${r.target} (move ${r.moveId}); every table verified by row count and content hash.`);
      out('The instance config points at the new database; the old value is in its history.');
      out(
        'The old database is fenced: a server started against it refuses to run (`cuttle database unfence` to roll back).',
      );
      if (r.service) out(r.service);
      if (r.downtimeMs !== undefined) {
        out(
          r.maintenanceLeftOn
            ? `Maintenance mode is still on (--keep-maintenance); ${duration(r.downtimeMs)} so far.`
            : `Total downtime (maintenance on to off): ${duration(r.downtimeMs)}.`,
        );
      }
    });

  withInstance(database.command('unfence'))
    .description('lift the fence a move left on the old database (a deliberate rollback)')
    .option('--storage-connection-string <cs>', 'the fenced database (default: the instance database)')
    .action(async (o) => {
      let target: ConnectionTarget;
      let key: MasterKey | undefined;
      if (o.storageConnectionString) {
        target = parseConnectionString(o.storageConnectionString);
        key = suppliedKey(o) ?? safeInstanceKey(o);
      } else {
        const inst = loadInstance(o);
        target = inst.target;
        key = inst.key;
      }
      if (!key)
        throw new PreconditionError(
          'Unfencing needs the master key (--master-key-file or CUTTLE_MASTER_KEY).',
          { code: 'MASTER_KEY_MISSING' },
        );
      const fence = await unfenceDatabase(target, key);
      out(`Unfenced. It had been moved to ${fence.movedTo} on ${fence.moved}.`);
      out('To use it again: cuttle configure --storage-connection-string "<this database>"');
      out('Changes made on the new database since the move are not in this one.');
    });
}

function safeInstanceKey(o: { instance?: string; config?: string; masterKeyFile?: string }) {
  try {
    return loadInstance(o).key;
  } catch {
    return undefined;
  }
}
