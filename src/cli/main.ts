import { Command, CommanderError } from '@commander-js/extra-typings';
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from '../lib/exit-codes.js';
import { errnoFailure } from '../lib/path-checks.js';
import { CUTTLE_VERSION } from '../lib/version.js';
import { normalizeArgv } from './argv.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from './cli-context.js';
import { err, printError } from './output.js';
import { resolveSecretArgs } from './secret-args.js';

type CommandModule = { register(program: Command, ctx: CliContext): void };

/**
 * Top-level command -> the module that registers it, loaded on demand: a command loads only its
 * own module and what that imports (`show-master-key` does not load the HTTP server), which halves
 * the start-up time of every CLI call. Help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  'create-instance': () => import('./commands/instance-commands.js'),
  'list-instances': () => import('./commands/instance-commands.js'),
  'delete-instance': () => import('./commands/instance-commands.js'),
  configure: () => import('./commands/configure-commands.js'),
  'show-configuration': () => import('./commands/configure-commands.js'),
  database: () => import('./commands/database-commands.js'),
  'show-master-key': () => import('./commands/master-key-commands.js'),
  admin: () => import('./commands/admin-user-commands.js'),
  user: () => import('./commands/admin-user-commands.js'),
  maintenance: () => import('./commands/maintenance-commands.js'),
  node: () => import('./commands/node-commands.js'),
  'rotate-master-key': () => import('./commands/key-rotation-commands.js'),
  'set-master-key': () => import('./commands/key-rotation-commands.js'),
  'lost-master-key': () => import('./commands/key-rotation-commands.js'),
  backup: () => import('./commands/backup-commands.js'),
  run: () => import('./commands/run-commands.js'),
  service: () => import('./commands/service-commands.js'),
  path: () => import('./commands/path-commands.js'),
  replicate: () => import('./commands/replicate-commands.js'),
  'retire-node': () => import('./commands/replicate-commands.js'),
};

async function modulesFor(args: string[]): Promise<CommandModule[]> {
  const loader = args[0] === undefined ? undefined : COMMANDS[args[0]];
  const loaders = loader ? [loader] : [...new Set(Object.values(COMMANDS))];
  const loaded = await Promise.all(loaders.map((l) => l()));
  return [...new Set(loaded)];
}

async function buildProgram(args: string[] = [], ctx: CliContext = DEFAULT_CLI_CONTEXT): Promise<Command> {
  const program = new Command()
    .name('cuttle')
    .description('Cuttle: a deployment automation server that is easy to move, back up and maintain')
    .version(CUTTLE_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  // Before the commands are added: subcommands copy these settings when created, and a parse
  // error of a subcommand (e.g. an unknown option carrying a connection string) must be redacted.
  program.exitOverride();
  // commander's own parse errors ("error: unknown option ...") carry the usage code like ours
  program.configureOutput({
    writeErr: (s) => err(s.trimEnd().replace(/^error: /, 'error[USAGE_INVALID]: ')),
  });
  for (const m of await modulesFor(args)) m.register(program as never, ctx);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program as unknown as Command;
}

/** The `--format` a command was given, so a failure is reported in the form the caller reads. */
function formatOf(args: string[]): 'text' | 'json' {
  const i = args.lastIndexOf('--format');
  const v = i >= 0 ? args[i + 1] : args.findLast((a) => a.startsWith('--format='))?.slice('--format='.length);
  return v === 'json' ? 'json' : 'text';
}

export async function main(argv: string[], ctx: CliContext = DEFAULT_CLI_CONTEXT): Promise<number> {
  process.title = 'cuttle';
  let args = normalizeArgv(argv);
  try {
    args = resolveSecretArgs(args);
    const program = await buildProgram(args, ctx);
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    // an errno that escaped the commands' own checks still names its path, with a code
    const failure = errnoFailure(e) ?? e;
    printError(failure, formatOf(args));
    return exitCodeFor(failure);
  }
}
