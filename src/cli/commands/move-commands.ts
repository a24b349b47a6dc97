import { spawn } from 'node:child_process';
import { type Command, Option } from '@commander-js/extra-typings';
import { loadInstance } from '../../admin/instance-context.js';
import { moveDatabase } from '../../admin/move/move-database.js';
import { renderPlan } from '../../admin/move/move-plan.js';
import { unfenceDatabase } from '../../admin/move/unfence.js';
import { type ConnectionTarget, parseConnectionString } from '../../config/connection-string.js';
import { suppliedKey } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import { consoleProgress } from '../../lib/progress.js';
import { intOption, withInstance } from '../instance-options.js';
import { out, outJson, outTable } from '../output.js';

function duration(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Starts the service through `cuttle service --start` when this build has that command. */
function serviceStarter(root: Command, ref: { instance?: string; config?: string }) {
  const has = root.commands.some((c) => c.name() === 'service');
  if (!has) return undefined;
  return () =>
    new Promise<string>((resolve, reject) => {
      const args = [...process.execArgv, process.argv[1]!, 'service', '--start'];
      if (ref.instance) args.push('--instance', ref.instance);
      if (ref.config) args.push('--config', ref.config);
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve('The service was started again.')
          : reject(new Error(`cuttle service --start exited with ${code}`)),
      );
    });
}

export function registerMoveCommands(database: Command) {
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
    .option('--format <format>', 'text or json', 'text')
    .addOption(new Option('--move-id <id>', 'the id of the move (the REST API picks it)').hideHelp())
    .action(async (o, cmd) => {
      if (o.moveId !== undefined && !/^move-[A-Za-z0-9-]{1,80}$/.test(o.moveId))
        throw new UsageError('--move-id must look like move-20250101T020000-abc123.');
      const inst = loadInstance(o);
      const progress = consoleProgress();
      const root = cmd.parent?.parent as Command | undefined;
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
          startService: root ? serviceStarter(root, o) : undefined,
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
