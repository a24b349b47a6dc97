import { readKeyFile } from '../../crypto/key-source.js';
import { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { assertServiceStopped } from '../home/running-service.js';
import { checkStorage, type InstanceRef } from '../instance-context.js';
import { checkCanary } from '../master-key-canary.js';
import {
  beginKeySwitch,
  finishKeySwitch,
  loadKeyContext,
  openContextStorage,
  type RecoveryOutcome,
  recoverKeySwitch,
} from './key-switch.js';
import { type ColumnCount, reencryptTransform, rewriteEnvelopes } from './reencrypt.js';

export interface RotateInput extends InstanceRef {
  /** Use this key as the new one instead of a fresh random key. */
  newMasterKeyFile?: string;
  /** Only finish or roll back an interrupted rotation. */
  resume?: boolean;
  progress?: ProgressReporter;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface RotateResult {
  instance: string;
  /** What happened to an interrupted rotation found on the way in. */
  recovered: RecoveryOutcome;
  rotated: boolean;
  oldKeyId?: string;
  newKeyId?: string;
  keyFile: string;
  counts: ColumnCount[];
}

/**
 * `cuttle rotate-master-key`: a new master key for every sensitive value, with every node stopped.
 * See key-switch.ts for why a crash at any point leaves one key right for every value.
 */
export async function rotateMasterKey(input: RotateInput): Promise<RotateResult> {
  const progress = input.progress ?? silentProgress;
  const ctx = loadKeyContext(input, { faults: input.faults });
  const storage = await openContextStorage(ctx);
  try {
    const recovered = await recoverKeySwitch(ctx, storage);
    if (recovered !== 'none') {
      progress.note(
        recovered === 'finished'
          ? `Finished an interrupted rotation: the instance now uses key ${ctx.current?.id}.`
          : 'Rolled back an interrupted rotation that had not changed the database; the old key is still in use.',
      );
    }
    const base = { instance: ctx.name, recovered, keyFile: ctx.keyFile };
    if (input.resume || recovered === 'finished') {
      return { ...base, rotated: false, newKeyId: ctx.current?.id, counts: [] };
    }
    const old = ctx.current;
    if (!old) {
      throw new PreconditionError(`No master key for instance "${ctx.name}": nothing to rotate from.`, {
        code: 'MASTER_KEY_MISSING',
        hints: [
          `The key file ${ctx.keyFile} is missing. Supply the current key with --master-key-file FILE.`,
          'If the key is lost for good, `cuttle lost-master-key` resets the sensitive values instead.',
        ],
      });
    }
    await checkStorage(storage, old);
    await assertServiceStopped(ctx.config, 'rotate the master key', { db: storage.db, allNodes: true });
    const next = input.newMasterKeyFile ? readKeyFile(input.newMasterKeyFile) : MasterKey.generate();
    if (next.id === old.id)
      throw new UsageError('The new master key is the key in use already.', { code: 'MASTER_KEY_SAME' });

    progress.update({ step: 'new-key', state: 'done', message: `key ${next.id} written beside the old one` });
    beginKeySwitch(ctx, next);
    progress.update({ step: 're-encrypt', state: 'running' });
    const counts = await storage.db.transaction().execute(async (trx) => {
      const c = await rewriteEnvelopes(trx, reencryptTransform(old, next));
      const canary = await checkCanary(trx, next);
      if (!canary.ok)
        throw new PreconditionError(`The re-encrypted canary does not open (${canary.reason}).`, {
          code: 'CANARY_DAMAGED',
        });
      ctx.faults.at('rotate:before-commit');
      return c;
    });
    const total = counts.reduce((n, c) => n + c.values, 0);
    progress.update({ step: 're-encrypt', state: 'done', done: total, message: 'values, one transaction' });
    ctx.faults.at('rotate:after-commit');
    await finishKeySwitch(ctx, next, { note: 'rotate-master-key' });
    progress.update({ step: 'verify', state: 'done', message: 'the new key opens the database' });
    return { ...base, rotated: true, oldKeyId: old.id, newKeyId: next.id, counts };
  } finally {
    await storage.close();
  }
}
