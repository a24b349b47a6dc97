import type { Command } from '@commander-js/extra-typings';
import {
  checkDatabase,
  createDatabase,
  type DatabaseProblem,
  grantDatabase,
  upgradeDatabase,
} from '../../admin/database-admin.js';
import { loadInstance } from '../../admin/instance-context.js';
import { type ConnectionTarget, parseConnectionString } from '../../config/connection-string.js';
import { suppliedKey } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError } from '../../lib/errors.js';
import { EXIT_PRECONDITION } from '../../lib/exit-codes.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from '../cli-context.js';
import { withInstance } from '../instance-options.js';
import { out, outFields, outJson } from '../output.js';
import { registerMoveCommands } from './move-commands.js';

interface TargetOpts {
  instance?: string;
  config?: string;
  masterKeyFile?: string;
  storageConnectionString?: string;
}

/** A database command acts on the instance's database, or on --storage-connection-string when given. */
function resolveTarget(o: TargetOpts): { target: ConnectionTarget; key: MasterKey | undefined } {
  if (o.storageConnectionString) {
    return { target: parseConnectionString(o.storageConnectionString), key: suppliedKey(o) };
  }
  const inst = loadInstance(o);
  return { target: inst.target, key: inst.key };
}

export function register(program: Command, ctx: CliContext = DEFAULT_CLI_CONTEXT) {
  const database = program.command('database').description('create, upgrade, check and grant the database');

  withInstance(database.command('create'))
    .description('create the database (if missing) and its schema')
    .option('--storage-connection-string <cs>', 'act on this database instead of the instance one')
    .action(async (o) => {
      const { target } = resolveTarget(o);
      const r = await createDatabase(target);
      out(
        `${r.created ? 'Created the database and' : 'The database exists;'} schema version ${r.from} -> ${r.to}.`,
      );
    });

  withInstance(database.command('upgrade'))
    .description('upgrade the schema to the version this Cuttle needs')
    .option('--storage-connection-string <cs>', 'act on this database instead of the instance one')
    .action(async (o) => {
      const { target, key } = resolveTarget(o);
      if (!key)
        throw new PreconditionError(
          'Upgrading needs the master key (--master-key-file or CUTTLE_MASTER_KEY).',
          { code: 'MASTER_KEY_MISSING' },
        );
      const r = await upgradeDatabase(target, key);
      out(
        r.from === r.to
          ? `The schema is already at version ${r.to}.`
          : `Upgraded the schema from version ${r.from} to ${r.to}.`,
      );
    });

  withInstance(database.command('check'))
    .description('report engine, schema version, master-key canary and privileges')
    .option('--storage-connection-string <cs>', 'act on this database instead of the instance one')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const { target, key } = resolveTarget(o);
      const r = await checkDatabase(target, key);
      if (o.format === 'json') outJson(r);
      else {
        outFields([
          ['Database', r.storage],
          ['Engine', r.engine],
          ['Connected as', r.user],
          ['Schema', `${r.schema.state} (version ${r.schema.version}, this Cuttle: ${r.schema.latest})`],
          ['Master key', r.canary === 'ok' ? 'ok (canary decrypts)' : r.canary],
          ['Privileges', r.privileges.ok ? 'ok' : `missing: ${r.privileges.missing.join('; ')}`],
          ['Instance id', r.instanceId],
          ['Fenced', r.fence ? `yes: moved to ${r.fence.movedTo} on ${r.fence.moved}` : 'no'],
          ['Size', r.sizeBytes === undefined ? undefined : `${(r.sizeBytes / 1048576).toFixed(1)} MB`],
          ['Unfinished restore', r.unfinishedRestore ? `yes: ${r.unfinishedRestore.archive}` : 'no'],
          ['Unfinished move', r.unfinishedMove ? `yes: ${r.unfinishedMove}` : 'no'],
        ]);
        if (r.privileges.fix.length) {
          out('To grant what is missing, as a privileged user:');
          for (const s of r.privileges.fix) out(`  ${s}`);
        }
        out(r.ok ? 'Result: OK' : 'Result: NOT OK');
      }
      if (r.ok) return;
      // JSON carries the problems in the report itself: one document on stdout, exit 2.
      if (o.format === 'json') process.exitCode = EXIT_PRECONDITION;
      else throw checkFailure(r.problems);
    });

  withInstance(database.command('grant'))
    .description(
      "grant a database user what Cuttle needs (Octopus's `database --grant`); run with a privileged login",
    )
    .requiredOption('--user <name>', 'the database user to grant to')
    .option('--storage-connection-string <cs>', 'connect with this (privileged) connection string')
    .action(async (o) => {
      const { target } = resolveTarget(o);
      const statements = await grantDatabase(target, o.user);
      out(`Granted to ${o.user}:`);
      for (const s of statements) out(`  ${s}`);
    });

  registerMoveCommands(database as never, ctx);
}

/** One problem fails with its own code; several with DATABASE_CHECK_FAILED, each listed. */
function checkFailure(problems: DatabaseProblem[]): PreconditionError {
  const only = problems.length === 1 ? problems[0] : undefined;
  return new PreconditionError(
    only ? only.message : `The database check found ${problems.length} problems.`,
    {
      code: only ? only.code : 'DATABASE_CHECK_FAILED',
      details: only ? [] : problems.map((p) => `${p.code}: ${p.message}`),
      hints: problems.flatMap((p) => p.fix),
    },
  );
}
