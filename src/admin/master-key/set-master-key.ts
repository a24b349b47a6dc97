import { parseConnectionString } from '../../config/connection-string.js';
import { envelopeKeyId, WrongMasterKeyError } from '../../crypto/envelope.js';
import { readKeyFile } from '../../crypto/key-source.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { assertServiceStopped } from '../home/running-service.js';
import { checkStorage } from '../instance-context.js';
import {
  beginKeySwitch,
  finishKeySwitch,
  loadKeyContext,
  openContextStorage,
  recoverKeySwitch,
} from './key-switch.js';

export interface SetKeyInput {
  instance?: string;
  config?: string;
  /** The key to use from now on (as written by rotate-master-key or show-master-key). */
  masterKeyFile: string;
  /** The full connection string, when the config's password was sealed with a key that is gone. */
  storageConnectionString?: string;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface SetKeyResult {
  instance: string;
  keyId: string;
  previousKeyId?: string;
  changed: boolean;
  keyFile: string;
}

/**
 * `cuttle set-master-key`: gives a node the instance's (new) master key. The key is proved against
 * the database canary before anything on this node is written, so a wrong file changes nothing.
 */
export async function setMasterKey(input: SetKeyInput): Promise<SetKeyResult> {
  if (!input.masterKeyFile)
    throw new UsageError('set-master-key needs --master-key-file FILE.', { code: 'OPTION_MISSING' });
  const ctx = loadKeyContext(
    { instance: input.instance, config: input.config },
    { ignoreSuppliedKey: true, faults: input.faults },
  );
  const key = readKeyFile(input.masterKeyFile);
  const override = input.storageConnectionString
    ? parseConnectionString(input.storageConnectionString)
    : undefined;
  const sealed = ctx.config.storage.sealedPassword;
  const storage = await openContextStorage(ctx, override, [key]);
  try {
    await recoverKeySwitch(ctx, storage, { target: override });
    await checkStorage(storage, key).catch((err) => {
      if (!(err instanceof WrongMasterKeyError)) throw err;
      throw new PreconditionError(
        `The key in ${input.masterKeyFile} (id ${key.id}) is not the master key of the database at ${storage.description}; nothing was changed.`,
        {
          code: 'MASTER_KEY_WRONG',
          cause: err,
          hints: ['Use the file written by `cuttle rotate-master-key` on the node that rotated.'],
        },
      );
    });
    const previousKeyId = ctx.current?.id;
    const base = { instance: ctx.name, keyId: key.id, previousKeyId, keyFile: ctx.keyFile };
    if (previousKeyId === key.id && (!sealed || envelopeKeyId(sealed) === key.id) && !override) {
      return { ...base, changed: false };
    }
    await assertServiceStopped(ctx.config, 'change the master key', { db: storage.db });
    beginKeySwitch(ctx, key);
    await finishKeySwitch(ctx, key, { target: override, note: 'set-master-key' });
    return { ...base, changed: true };
  } finally {
    await storage.close();
  }
}
