import type { Command } from '@commander-js/extra-typings';
import { createInstance, registerExistingConfig } from '../../admin/create-instance.js';
import { listInstances, registryPath, unregisterInstance } from '../../config/instance-registry.js';
import { UsageError } from '../../lib/errors.js';
import { out, outJson, outTable } from '../output.js';

export function register(program: Command) {
  program
    .command('create-instance')
    .description('create an instance (home, config, master key, database schema) and register it')
    .option('--instance <name>', 'the instance name', 'default')
    .option('--home <dir>', 'the home directory')
    .option('--storage-connection-string <cs>', 'the database (default: SQLite in the home directory)')
    .option('--master-key-file <file>', 'use this master key (needed to join an existing database)')
    .option('--config <file>', 're-register an instance whose files were moved, from its config file')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o) => {
      if (o.config) {
        if (o.home || o.storageConnectionString)
          throw new UsageError('--config cannot be combined with --home or --storage-connection-string.', {
            code: 'OPTIONS_CONFLICT',
          });
        const r = registerExistingConfig(o.instance, o.config);
        if (o.format === 'json') return outJson(r);
        out(`Registered instance "${r.name}" from ${r.configFile} (home ${r.home}).`);
        return;
      }
      if (!o.home)
        throw new UsageError('create-instance needs --home DIR (or --config FILE to re-register).', {
          code: 'OPTION_MISSING',
        });
      const r = await createInstance({
        name: o.instance,
        home: o.home,
        connectionString: o.storageConnectionString,
        masterKeyFile: o.masterKeyFile,
      });
      if (o.format === 'json') return outJson(r);
      out(`${r.joined ? 'Joined' : 'Created'} instance "${r.name}".`);
      out(`  home:     ${r.home}`);
      out(`  config:   ${r.configFile}`);
      out(`  database: ${r.storage} (schema version ${r.schemaVersion})`);
      out(`  registry: ${registryPath()}`);
      if (!r.joined) {
        out('Save a copy of the master key somewhere safe: `cuttle show-master-key` prints it.');
        out('Without it, a backup of the database cannot be used.');
      }
    });

  program
    .command('list-instances')
    .description('list the registered instances')
    .option('--format <format>', 'text or json', 'text')
    .action((o) => {
      const items = listInstances();
      if (o.format === 'json') return outJson({ registry: registryPath(), instances: items });
      if (!items.length) return out(`No instances are registered in ${registryPath()}.`);
      outTable(
        ['NAME', 'CONFIG'],
        items.map((i) => [i.name, i.configFile]),
      );
    });

  program
    .command('delete-instance')
    .description('remove an instance from the registry (its files and database are kept)')
    .requiredOption('--instance <name>', 'the instance to unregister')
    .action((o) => {
      const e = unregisterInstance(o.instance);
      out(`Removed instance "${e.name}" from the registry.`);
      out(`Its files (${e.configFile} and the home directory) and its database were not touched.`);
      out(`To register it again: cuttle create-instance --instance ${e.name} --config ${e.configFile}`);
    });
}
