import os from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import { type InstanceRef, loadInstance, openInstanceStorage } from '../../admin/instance-context.js';
import { type Actor, isRole } from '../../core/actor.js';
import { addApiKey, createOrResetAdministrator, createUser } from '../../core/user-service.js';
import { UsageError } from '../../lib/errors.js';
import type { Storage } from '../../storage/storage.js';
import { withInstance } from '../instance-options.js';
import { out } from '../output.js';

/** Changes made from the command line are recorded as made by the operating-system user. */
function cliActor(): Actor {
  return { userId: null, username: `${os.userInfo().username} (command line)`, role: 'administrator' };
}

async function withStorage<T>(ref: InstanceRef, fn: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openInstanceStorage(loadInstance(ref));
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/**
 * A generated key is printed once, to stdout only: the server keeps nothing but its hash.
 * (Written directly: the redacting printer would mask it, since the key is a registered secret.)
 */
function printNewKey(key: string): void {
  process.stdout.write(`API key: ${key}\n`);
  out('Store it now: it cannot be shown again.');
}

export function register(program: Command) {
  withInstance(program.command('admin'))
    .description('create an administrator, or make an existing user an administrator and reset its password')
    .requiredOption('--username <name>', 'the user name')
    .option('--password <password>', 'set this password')
    .option('--api-key <key>', 'register this exact API key (API-...) for the user')
    .action(async (o) => {
      await withStorage(o, async (storage) => {
        const actor = cliActor();
        const { user, created } = await createOrResetAdministrator(storage.db, {
          username: o.username,
          password: o.password,
          actor,
        });
        out(`${created ? 'Created' : 'Updated'} administrator ${user.username} (${user.id}).`);
        if (o.apiKey) {
          await addApiKey(storage.db, actor, user.id, 'Registered by cuttle admin', o.apiKey);
          out('The API key is registered.');
        } else if (created && !o.password) {
          printNewKey((await addApiKey(storage.db, actor, user.id, 'Created by cuttle admin')).key);
        }
      });
    });

  const user = program.command('user').description('manage users');
  withInstance(user.command('create'))
    .description('create a user with a role: deployer (may deploy) or administrator')
    .requiredOption('--username <name>', 'the user name')
    .requiredOption('--role <role>', 'deployer or administrator')
    .option('--password <password>', 'the password')
    .option('--api-key <key>', 'register this exact API key (API-...) for the user')
    .action(async (o) => {
      if (!isRole(o.role))
        throw new UsageError('--role must be deployer or administrator.', { code: 'OPTION_INVALID' });
      const role = o.role;
      await withStorage(o, async (storage) => {
        const actor = cliActor();
        const row = await createUser(storage.db, actor, { username: o.username, role, password: o.password });
        out(`Created user ${row.username} (${row.id}) with the ${role} role.`);
        if (o.apiKey) {
          await addApiKey(storage.db, actor, row.id, 'Registered by cuttle user create', o.apiKey);
          out('The API key is registered.');
        } else if (!o.password) {
          printNewKey((await addApiKey(storage.db, actor, row.id, 'Created by cuttle user create')).key);
        }
      });
    });
}
