import type { Command } from '@commander-js/extra-typings';
import { readPassphraseFile } from '../../admin/backup/backup-key.js';
import { loadInstance } from '../../admin/instance-context.js';
import { retireNode } from '../../admin/move-server/retire-node.js';
import { replicate } from '../../admin/replicate/replicate.js';
import { consoleProgress } from '../../lib/progress.js';
import { withInstance } from '../instance-options.js';
import { out, outFields, outJson } from '../output.js';

export function register(program: Command) {
  program
    .command('replicate')
    .description(
      'restore a backup as a test replica that can run beside production (new ids, nothing reaching out)',
    )
    .requiredOption('--from-backup <file>', 'the backup archive of the instance to copy')
    .requiredOption('--instance <name>', 'the name of the replica instance')
    .requiredOption('--home <dir>', "the replica's home folder")
    .requiredOption('--storage-connection-string <cs>', "the replica's own (empty) database")
    .option('--passphrase-file <file>', "open the archive's key bundle with this passphrase")
    .option('--master-key-file <file>', 'the master key of the archive, if it has no key bundle')
    .option('--new-master-key', 're-encrypt every sensitive value under a fresh key of its own')
    .option('--scrub-personal-data', "blank users' emails, display names and passwords; remove API keys")
    .option('--listen <url>', 'the URL the replica listens on (default: the original one)')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const r = await replicate({
        archive: o.fromBackup,
        instance: o.instance,
        home: o.home,
        storageConnectionString: o.storageConnectionString,
        passphrase: o.passphraseFile ? readPassphraseFile(o.passphraseFile) : undefined,
        masterKeyFile: o.masterKeyFile,
        newMasterKey: o.newMasterKey,
        scrubPersonalData: o.scrubPersonalData,
        listen: o.listen,
        progress: consoleProgress(),
      });
      if (o.format === 'json') return outJson(r);
      out(`Created replica "${r.instance}" from ${o.fromBackup}.`);
      outFields([
        ['Config', r.configFile],
        ['Database', r.restore.storage],
        ['Rows restored', r.restore.rows],
        ['Installation id', `${r.changes.installationId} (new)`],
        ['Nodes cleared', r.changes.nodesRemoved],
        ['Tasks canceled', r.changes.tasksCanceled],
        ['Backup schedule', r.changes.backupScheduleRemoved ? 'removed' : 'none'],
        [
          'Personal data',
          o.scrubPersonalData
            ? `${r.changes.usersScrubbed} users blanked, ${r.changes.apiKeysRemoved} API keys removed`
            : 'kept',
        ],
        [
          'Master key',
          r.masterKey.rotated
            ? `${r.masterKey.keyId} (new; the original key opens nothing here)`
            : `${r.masterKey.keyId} (same as the original)`,
        ],
      ]);
      out('It is marked as a replica (IsPotentialClone in /api/serverstatus).');
      if (!o.listen)
        out(
          'It listens where the original did: change it with cuttle configure --listen URL before starting both on one machine.',
        );
    });

  withInstance(program.command('retire-node'))
    .description(
      'mark an old node as retired after a move of the server: it no longer counts and refuses to start',
    )
    .requiredOption('--node <name>', 'the node to retire (its name in `cuttle service --status`)')
    .option('--force', 'retire it even though it sent a heartbeat in the last 15 seconds')
    .action(async (o) => {
      const r = await retireNode(loadInstance(o), o.node, { force: o.force });
      out(`Retired node "${r.node}" (was ${r.previousStatus}, last seen ${r.lastSeen}); event ${r.eventId}.`);
      out('If that server is started again it refuses to run (unless started with --allow-retired-node).');
    });
}
