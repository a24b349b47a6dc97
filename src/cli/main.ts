import { Command, CommanderError } from '@commander-js/extra-typings';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from '../lib/exit-codes.js';
import { CUTTLE_VERSION } from '../lib/version.js';
import { normalizeArgv } from './argv.js';
import * as adminUserCommands from './commands/admin-user-commands.js';
import * as backupCommands from './commands/backup-commands.js';
import * as configureCommands from './commands/configure-commands.js';
import * as databaseCommands from './commands/database-commands.js';
import * as instanceCommands from './commands/instance-commands.js';
import * as keyRotationCommands from './commands/key-rotation-commands.js';
import * as maintenanceCommands from './commands/maintenance-commands.js';
import * as masterKeyCommands from './commands/master-key-commands.js';
import * as pathCommands from './commands/path-commands.js';
import * as replicateCommands from './commands/replicate-commands.js';
import * as runCommands from './commands/run-commands.js';
import * as serviceCommands from './commands/service-commands.js';
import { err, printError } from './output.js';

export const COMMAND_MODULES = [instanceCommands, configureCommands, databaseCommands, masterKeyCommands, adminUserCommands, maintenanceCommands, keyRotationCommands, backupCommands, runCommands, serviceCommands, pathCommands, replicateCommands];

export function buildProgram(): Command {
  const program = new Command()
    .name('cuttle')
    .description('Cuttle: a deployment automation server that is easy to move, back up and maintain')
    .version(CUTTLE_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  // Before the commands are added: subcommands copy these settings when created, and a parse
  // error of a subcommand (e.g. an unknown option carrying a connection string) must be redacted.
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => err(s.trimEnd()) });
  for (const m of COMMAND_MODULES) m.register(program as never);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program as unknown as Command;
}

export async function main(argv: string[]): Promise<number> {
  process.title = 'cuttle';
  const program = buildProgram();
  try {
    await program.parseAsync(normalizeArgv(argv), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    printError(e);
    return exitCodeFor(e);
  }
}
