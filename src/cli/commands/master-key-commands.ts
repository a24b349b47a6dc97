import type { Command } from '@commander-js/extra-typings';
import { loadInstance } from '../../admin/instance-context.js';
import { withInstance } from '../instance-options.js';
import { out, outJson } from '../output.js';

export function register(program: Command) {
  withInstance(program.command('show-master-key'))
    .description('print the master key, to save it somewhere safe (it is the one secret this command shows)')
    .option('--format <format>', 'text or json', 'text')
    .action((o) => {
      const inst = loadInstance(o);
      // The key is written straight to stdout: the redacting printer would (rightly) mask it.
      if (o.format === 'json') {
        process.stdout.write(
          `${JSON.stringify({ MasterKey: inst.key.toBase64(), KeyId: inst.key.id }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(`${inst.key.toBase64()}\n`);
      if (process.stderr.isTTY) {
        out(`(key id ${inst.key.id}; store it apart from the database backups, e.g. in a password manager)`);
      }
    });
  void outJson;
}
