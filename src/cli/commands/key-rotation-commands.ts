import type { Command } from '@commander-js/extra-typings';
import { lostMasterKey } from '../../admin/master-key/lost-master-key.js';
import type { ColumnCount } from '../../admin/master-key/reencrypt.js';
import { rotateMasterKey } from '../../admin/master-key/rotate-master-key.js';
import { setMasterKey } from '../../admin/master-key/set-master-key.js';
import { UsageError } from '../../lib/errors.js';
import { consoleProgress } from '../../lib/progress.js';
import { type CliContext, DEFAULT_CLI_CONTEXT } from '../cli-context.js';
import { withInstance } from '../instance-options.js';
import { out, outJson, outTable } from '../output.js';

function printCounts(counts: ColumnCount[], verb: string): void {
  if (!counts.length) {
    out(`No sealed values were ${verb}.`);
    return;
  }
  outTable(
    ['TABLE', 'COLUMN', 'ROWS', 'VALUES'],
    counts.map((c) => [c.table, c.column, c.rows, c.values]),
  );
}

export function register(program: Command, { faults }: CliContext = DEFAULT_CLI_CONTEXT) {
  withInstance(program.command('rotate-master-key'))
    .description('re-encrypt every sensitive value under a new master key (all nodes stopped)')
    .option('--i-really-want-to-rotate-my-master-key', 'confirm the rotation')
    .option('--i-have-backed-up-my-database', 'confirm that a backup of the database exists')
    .option('--new-master-key-file <file>', 'use this key as the new one instead of a fresh random key')
    .option('--resume', 'only finish or roll back an interrupted rotation')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      if (!o.resume && (!o.iReallyWantToRotateMyMasterKey || !o.iHaveBackedUpMyDatabase)) {
        throw new UsageError('Rotating the master key needs two confirmations.', {
          code: 'CONFIRMATION_REQUIRED',
          hints: [
            'Back up the database and the config, stop every node, then run:',
            '  cuttle rotate-master-key --i-really-want-to-rotate-my-master-key --i-have-backed-up-my-database',
          ],
        });
      }
      const r = await rotateMasterKey({ ...o, progress: consoleProgress(), faults });
      if (o.format === 'json') return outJson(r);
      if (!r.rotated) {
        out(
          r.recovered === 'none'
            ? `No interrupted rotation for instance "${r.instance}"; nothing to do.`
            : `Instance "${r.instance}" uses master key ${r.newKeyId ?? '?'}.`,
        );
        return;
      }
      out(`Rotated the master key of instance "${r.instance}": ${r.oldKeyId} -> ${r.newKeyId}.`);
      printCounts(r.counts, 're-encrypted');
      out(`The new key is in ${r.keyFile}. Save it now: cuttle show-master-key --instance ${r.instance}`);
      out('On every other node: cuttle set-master-key --master-key-file FILE (then start the nodes).');
      if (process.env.CUTTLE_MASTER_KEY) out('CUTTLE_MASTER_KEY is set: replace its value with the new key.');
    });

  program
    .command('set-master-key')
    .description("give this node the instance's master key after a rotation (checked against the database)")
    .option('--instance <name>', 'the instance to act on (default: "default")')
    .option('--config <file>', "the instance's config file, instead of --instance")
    .requiredOption('--master-key-file <file>', 'the file holding the new master key')
    .option(
      '--storage-connection-string <cs>',
      "the full connection string, if the config's password cannot be opened",
    )
    .action(async (o) => {
      const r = await setMasterKey({ ...o, faults });
      out(
        r.changed
          ? `Instance "${r.instance}" now uses master key ${r.keyId} (was ${r.previousKeyId ?? 'none'}); saved in ${r.keyFile}.`
          : `Instance "${r.instance}" already uses master key ${r.keyId}; nothing changed.`,
      );
    });

  withInstance(program.command('lost-master-key'))
    .description('make a new master key and clear every sensitive value (when the key is lost for good)')
    .option('--i-really-want-to-reset-all-my-sensitive-data', 'confirm the reset')
    .option('--i-have-backed-up-my-database', 'accepted for Octopus compatibility')
    .option(
      '--storage-connection-string <cs>',
      "the full connection string, if the config's password was sealed with the lost key",
    )
    .option('--skip-current-master-key-test', 'reset even if the current key still opens the database')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      const r = await lostMasterKey({
        ...o,
        confirmed: !!o.iReallyWantToResetAllMySensitiveData,
        skipCurrentKeyTest: o.skipCurrentMasterKeyTest,
        faults,
      });
      if (o.format === 'json') return outJson(r);
      out(`Instance "${r.instance}" has a new master key (${r.newKeyId}) in ${r.keyFile}.`);
      printCounts(r.counts, 'cleared');
      if (r.variables.length) {
        out('These variables must be entered again:');
        outTable(
          ['PROJECT', 'VARIABLE'],
          r.variables.map((v) => [v.project ?? v.owner, v.name]),
        );
      }
      out(
        `Recorded as event ${r.eventId}. Save the new key: cuttle show-master-key --instance ${r.instance}`,
      );
    });
}
