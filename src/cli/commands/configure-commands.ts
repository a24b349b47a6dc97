import type { Command } from '@commander-js/extra-typings';
import { configureInstance } from '../../admin/configure.js';
import { keyFileOf, loadInstance } from '../../admin/instance-context.js';
import { describeStored, resolvePath } from '../../config/instance-config.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from '../cli-context.js';
import { boolOption, intOption, withInstance } from '../instance-options.js';
import { out, outFields, outJson } from '../output.js';
import { runMoveHome } from './path-commands.js';

export function register(program: Command, { faults }: CliContext = DEFAULT_CLI_CONTEXT) {
  withInstance(program.command('configure'))
    .description('change instance settings')
    .option('--storage-connection-string <cs>', 'point the instance at another database (validated first)')
    .option('--listen <url>', 'the URL the server listens on, e.g. http://0.0.0.0:8080')
    .option('--node-name <name>', "this node's name")
    .option('--task-cap <n>', 'how many tasks this node runs at once', intOption('--task-cap'))
    .option(
      '--backup-passphrase-file <file>',
      'seal the master key into every scheduled or REST backup with the passphrase in this file',
    )
    .option('--no-backup-passphrase-file', 'stop sealing the master key into those backups')
    .option(
      '--keep-work-folders <bool>',
      "true: keep a failed step's work folder (sensitive values masked) for troubleshooting; false (the default): remove every work folder when its step ends",
      boolOption('--keep-work-folders'),
    )
    .option('--skip-validation', 'save the connection string without checking the database (experts only)')
    .option('--allow-other-instance', "accept a database that belongs to another instance's id")
    .option('--home <dir>', 'move the home directory there (copied, verified, then switched)')
    .option('--keep-old', 'with --home: keep the old copy')
    .action(async (o) => {
      const inst = loadInstance(o);
      if (o.home) return runMoveHome(inst, { ...o, home: o.home }, faults);
      const r = await configureInstance(inst, {
        storageConnectionString: o.storageConnectionString,
        listen: o.listen,
        nodeName: o.nodeName,
        taskCap: o.taskCap,
        backupPassphraseFile: o.backupPassphraseFile,
        keepWorkFolders: o.keepWorkFolders,
        skipValidation: o.skipValidation,
        allowOtherInstance: o.allowOtherInstance,
      });
      out(`Saved ${r.changed.join(', ')} for instance "${inst.name}".`);
      if (r.changed.includes('storage')) {
        out(`The instance now uses ${describeStored(r.config.storage, r.config.home)}.`);
        out(
          'The previous value is in the config history (`cuttle show-configuration`). Restart the service to use it.',
        );
      }
    });

  withInstance(program.command('show-configuration'))
    .description('show the instance configuration (secrets redacted)')
    .option('--format <format>', 'text or json', 'text')
    .action((o) => {
      const inst = loadInstance(o);
      const c = inst.config;
      const view = {
        Instance: c.instanceName,
        ConfigFile: inst.configFile,
        Home: c.home,
        StorageConnectionString: describeStored(c.storage, c.home),
        MasterKeyFile: keyFileOf(c),
        MasterKeyId: inst.key.id,
        Listen: c.listen,
        NodeName: c.nodeName,
        TaskCap: c.taskCap,
        BackupPassphraseFile: c.backupPassphraseFile ?? null,
        Paths: {
          artifacts: resolvePath(c, c.paths.artifacts),
          packages: resolvePath(c, c.paths.packages),
          backups: resolvePath(c, c.paths.backups),
        },
        History: c.history.map((h) => ({
          changed: h.changed,
          setting: h.setting,
          previous: h.setting === 'storage' ? h.note : h.previous,
        })),
      };
      if (o.format === 'json') return outJson(view);
      outFields([
        ['Instance', view.Instance],
        ['Config file', view.ConfigFile],
        ['Home', view.Home],
        ['Storage', view.StorageConnectionString],
        ['Master key file', view.MasterKeyFile],
        ['Master key id', view.MasterKeyId],
        ['Listen', view.Listen],
        ['Node name', view.NodeName],
        ['Task cap', view.TaskCap],
        [
          'Backup passphrase file',
          view.BackupPassphraseFile ?? 'none (scheduled backups hold no key bundle)',
        ],
        ['Artifacts', view.Paths.artifacts],
        ['Packages', view.Paths.packages],
        ['Backups', view.Paths.backups],
      ]);
      if (view.History.length) {
        out('History:');
        for (const h of view.History)
          out(
            `  ${h.changed}  ${h.setting}  ${typeof h.previous === 'string' ? h.previous : JSON.stringify(h.previous)}`,
          );
      }
    });
}
