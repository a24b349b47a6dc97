import type { Command } from '@commander-js/extra-typings';
import { moveFolders } from '../../admin/home/move-folders.js';
import { type MoveHomeResult, moveHome } from '../../admin/home/move-home.js';
import { type Instance, loadInstance } from '../../admin/instance-context.js';
import { UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { consoleProgress } from '../../lib/progress.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from '../cli-context.js';
import { withInstance } from '../instance-options.js';
import { out, outJson } from '../output.js';

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** `cuttle configure --home DIR [--keep-old]` lands here (configure-commands.ts). */
export async function runMoveHome(
  inst: Instance,
  o: {
    home: string;
    keepOld?: boolean;
    storageConnectionString?: string;
    listen?: string;
    nodeName?: string;
    taskCap?: number;
  },
  faults?: Faults,
): Promise<void> {
  if ([o.storageConnectionString, o.listen, o.nodeName, o.taskCap].some((v) => v !== undefined)) {
    throw new UsageError(
      '--home moves the home directory on its own: change other settings in a separate command.',
      { code: 'OPTIONS_CONFLICT' },
    );
  }
  const r: MoveHomeResult = await moveHome(inst, {
    newHome: o.home,
    keepOld: o.keepOld,
    progress: consoleProgress(),
    faults,
  });
  out(
    `Moved the home of instance "${r.instance}" from ${r.from} to ${r.to}: ${r.files} files, ${mb(r.bytes)}, each verified (size and SHA-256).`,
  );
  if (r.database) out(`The SQLite database moved with it: ${r.database.to}.`);
  out(`Config: ${r.configFile}.`);
  if (!r.registryUpdated) {
    out(
      `The instance was not registered under "${r.instance}" with the old config; use --config ${r.configFile} from now on,`,
    );
    out(`or register it: cuttle create-instance --instance ${r.instance} --config ${r.configFile}`);
  }
  if (r.oldHome === 'kept')
    out(`The old copy is kept in ${r.from} (its config renamed to cuttle.config.json.moved).`);
  else if (r.oldHome === 'removed') out(`The old home ${r.from} was removed.`);
  else {
    out(`The old home ${r.from} was emptied except for ${r.leftovers.length} file(s) Cuttle did not copy:`);
    for (const f of r.leftovers.slice(0, 20)) out(`  ${f}`);
  }
}

export function register(program: Command, { faults }: CliContext = DEFAULT_CLI_CONTEXT) {
  withInstance(program.command('path'))
    .description('move the artifacts, packages or backups folder (copied, verified, then switched)')
    .option('--artifacts <dir>', 'the new artifacts folder')
    .option('--packages <dir>', 'the new packages folder (built-in feed)')
    .option('--backups <dir>', 'the new default folder for backup archives')
    .option('--keep-old', 'keep the old folders after the switch')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const inst = loadInstance(o);
      const moved = await moveFolders(inst, {
        folders: { artifacts: o.artifacts, packages: o.packages, backups: o.backups },
        keepOld: o.keepOld,
        progress: consoleProgress(),
        faults,
      });
      if (o.format === 'json') return outJson(moved);
      for (const m of moved) {
        out(`Moved ${m.folder} from ${m.from} to ${m.to}: ${m.files} files, ${mb(m.bytes)}, each verified.`);
        if (m.old === 'partly-removed')
          out(`  ${m.leftovers.length} file(s) Cuttle did not copy stay in ${m.from}.`);
        else out(`  The old folder was ${m.old}.`);
      }
      out('Restart the service so it uses the new folders.');
    });
}
