import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../config/atomic-file.js';
import { type ConnectionTarget, parseConnectionString } from '../../config/connection-string.js';
import {
  type InstanceConfig,
  loadConfig,
  openConnection,
  pushHistory,
  saveConfig,
  sealConnection,
} from '../../config/instance-config.js';
import { envelopeKeyId, open, seal } from '../../crypto/envelope.js';
import { readKeyFile, resolveKey, writeKeyFile } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError } from '../../lib/errors.js';
import { type Faults, NO_FAULTS } from '../../lib/faults.js';
import { openStorage, type Storage } from '../../storage/storage.js';
import { type InstanceRef, instanceConfigFile, keyFileOf } from '../instance-context.js';
import { checkCanary, requireCanary } from '../master-key-canary.js';
import { pendingKeyFile, previousKeyFile } from './pending-key.js';

export { assertNoPendingKeySwitch, pendingKeyFile } from './pending-key.js';

/**
 * A change of master key (rotate, set, lost) is a switch between two key files that must never
 * leave a value readable by neither:
 *   1. the new key is written to `<key file>.next` (0600) before the database is touched;
 *   2. the database changes in one transaction (the canary moves to the new key with the rest);
 *   3. the config's sealed password is resealed, then the key file replaced atomically;
 *   4. both are verified against the database, and only then `.next` and the sealed copy of the
 *      previous key (`<key file>.previous-<id>`) are removed.
 * A crash anywhere leaves `.next` behind; the canary's key id then says which side won:
 * the new key's id means the commit happened (finish steps 3-4), anything else means it did not
 * (drop `.next`, the old key is still right for every value).
 */
export interface KeyContext {
  name: string;
  configFile: string;
  config: InstanceConfig;
  keyFile: string;
  /** The key the instance uses now (key file, --master-key-file or CUTTLE_MASTER_KEY), if any. */
  current?: MasterKey;
  /** The key of an interrupted switch, if `.next` exists. */
  pending?: MasterKey;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults: Faults;
}

export function loadKeyContext(
  ref: InstanceRef,
  opts: { ignoreSuppliedKey?: boolean; faults?: Faults } = {},
): KeyContext {
  const { configFile } = instanceConfigFile(ref);
  const config = loadConfig(configFile);
  const keyFile = keyFileOf(config);
  const current = opts.ignoreSuppliedKey
    ? fs.existsSync(keyFile)
      ? readKeyFile(keyFile)
      : undefined
    : resolveKey({ masterKeyFile: ref.masterKeyFile, instanceKeyFile: keyFile });
  const pendingFile = pendingKeyFile(keyFile);
  const pending = fs.existsSync(pendingFile) ? readKeyFile(pendingFile) : undefined;
  const faults = opts.faults ?? NO_FAULTS;
  return { name: config.instanceName, configFile, config, keyFile, current, pending, faults };
}

/** The database the config names, its password opened with whichever known key sealed it. */
function contextTarget(
  ctx: KeyContext,
  override?: ConnectionTarget,
  extraKeys: MasterKey[] = [],
): ConnectionTarget {
  if (override) return override;
  const sealed = ctx.config.storage.sealedPassword;
  const keys = [ctx.current, ctx.pending, ...extraKeys].filter((k): k is MasterKey => !!k);
  const key = sealed ? keys.find((k) => k.id === envelopeKeyId(sealed)) : keys[0];
  if (sealed && !key) {
    throw new PreconditionError(
      `The database password in ${ctx.configFile} is sealed with master key ${envelopeKeyId(sealed) ?? '?'}, which is not available.`,
      {
        code: 'MASTER_KEY_MISSING',
        hints: [
          'Give the full connection string (with its password) with --storage-connection-string CS.',
          'Or supply the right key with --master-key-file FILE.',
        ],
      },
    );
  }
  if (!key) return parseConnectionString(ctx.config.storage.connectionString, ctx.config.home);
  return openConnection(ctx.config.storage, key, ctx.config.home);
}

export async function openContextStorage(
  ctx: KeyContext,
  override?: ConnectionTarget,
  extraKeys: MasterKey[] = [],
): Promise<Storage> {
  return openStorage(contextTarget(ctx, override, extraKeys));
}

/** Writes `.next` and a copy of the old key sealed with the new one. Step 1 of a switch. */
export function beginKeySwitch(ctx: KeyContext, next: MasterKey): void {
  const pending = pendingKeyFile(ctx.keyFile);
  const tmp = `${pending}.tmp-${process.pid}`;
  writeKeyFile(tmp, next);
  try {
    // link(2) fails when `.next` exists: two changes at once cannot overwrite each other's key.
    fs.linkSync(tmp, pending);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new PreconditionError(`Another master key change of instance "${ctx.name}" is in progress.`, {
      code: 'KEY_CHANGE_IN_PROGRESS',
      hints: [
        `Wait for it, or if it was interrupted: cuttle rotate-master-key --resume --instance ${ctx.name}`,
      ],
    });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (ctx.current && ctx.current.id !== next.id) {
    const body = {
      format: 'cuttle-previous-key/1',
      keyId: ctx.current.id,
      sealedWith: next.id,
      key: seal(next, ctx.current.toBase64()),
      note: 'The previous master key, sealed with the new one; removed once the new key is verified.',
    };
    writeFileAtomic(
      previousKeyFile(ctx.keyFile, ctx.current.id),
      `${JSON.stringify(body, null, 2)}\n`,
      0o600,
    );
  }
  ctx.faults.at('key-switch:after-next');
}

function removeSwitchFiles(keyFile: string): void {
  const dir = path.dirname(keyFile);
  const base = path.basename(keyFile);
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(`${base}.next`) || f.startsWith(`${base}.previous-`))
      fs.rmSync(path.join(dir, f), { force: true });
  }
}

/**
 * Steps 3-4, once the database is under `next`. `target` carries the plain password when the
 * caller had to be given the connection string (its password is then sealed anew).
 */
export async function finishKeySwitch(
  ctx: KeyContext,
  next: MasterKey,
  opts: { target?: ConnectionTarget; note: string },
): Promise<void> {
  const cfg = structuredClone(ctx.config);
  let changed = false;
  if (opts.target) {
    const stored = sealConnection(opts.target, next);
    if (stored.connectionString !== cfg.storage.connectionString) {
      pushHistory(cfg, 'storage', cfg.storage, 'replaced while changing the master key');
    }
    cfg.storage = stored;
    changed = true;
  } else if (cfg.storage.sealedPassword && envelopeKeyId(cfg.storage.sealedPassword) !== next.id) {
    const sealedWith = envelopeKeyId(cfg.storage.sealedPassword);
    const old = [ctx.current, ctx.pending].find((k) => k && k.id === sealedWith);
    if (!old)
      throw new PreconditionError('The database password cannot be resealed: its key is not available.', {
        code: 'MASTER_KEY_MISSING',
      });
    cfg.storage = { ...cfg.storage, sealedPassword: seal(next, open(old, cfg.storage.sealedPassword)) };
    changed = true;
  }
  const previousId = ctx.current?.id;
  if (previousId !== next.id) {
    pushHistory(cfg, 'masterKey', previousId ?? null, opts.note);
    changed = true;
  }
  if (changed) saveConfig(ctx.configFile, cfg);
  ctx.faults.at('key-switch:after-config');
  writeKeyFile(ctx.keyFile, next);
  ctx.config = cfg;
  ctx.current = readKeyFile(ctx.keyFile);
  if (ctx.current.id !== next.id)
    throw new PreconditionError(`The key file ${ctx.keyFile} did not take the new key.`, {
      code: 'PATH_INVALID',
    });
  const storage = await openStorage(openConnection(cfg.storage, ctx.current, cfg.home));
  try {
    await requireCanary(storage.db, ctx.current, storage.description);
  } finally {
    await storage.close();
  }
  removeSwitchFiles(ctx.keyFile);
  ctx.pending = undefined;
}

export type RecoveryOutcome = 'none' | 'finished' | 'rolled-back';

/** Decides an interrupted switch by the canary: finish it if the commit happened, else drop `.next`. */
export async function recoverKeySwitch(
  ctx: KeyContext,
  storage: Storage,
  opts: { target?: ConnectionTarget } = {},
): Promise<RecoveryOutcome> {
  if (!ctx.pending) return 'none';
  const canary = await checkCanary(storage.db, ctx.pending);
  if (canary.keyId === ctx.pending.id) {
    if (!canary.ok) {
      throw new PreconditionError(
        `The master-key canary is sealed with the pending key ${ctx.pending.id} but does not open: it is damaged.`,
        {
          code: 'CANARY_DAMAGED',
          hints: [`Keep ${pendingKeyFile(ctx.keyFile)}; restore the database from a backup.`],
        },
      );
    }
    await finishKeySwitch(ctx, ctx.pending, { target: opts.target, note: 'finished an interrupted change' });
    return 'finished';
  }
  removeSwitchFiles(ctx.keyFile);
  ctx.pending = undefined;
  return 'rolled-back';
}
