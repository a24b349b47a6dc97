import path from 'node:path';
import { type ConnectionTarget, describeTarget } from '../config/connection-string.js';
import { configPathFor } from '../config/home-layout.js';
import { type InstanceConfig, loadConfig, openConnection, resolvePath } from '../config/instance-config.js';
import { getInstance } from '../config/instance-registry.js';
import { resolveKey } from '../crypto/key-source.js';
import type { MasterKey } from '../crypto/master-key.js';
import { PreconditionError } from '../lib/errors.js';
import { migrateToLatest, schemaStatus, schemaTooNew } from '../storage/migrator.js';
import { getMeta, getMetaJson, META } from '../storage/repositories/metadata-repository.js';
import { openStorage, type Storage } from '../storage/storage.js';
import { incompleteRestoreError, readRestoreMarker } from './backup/restore-marker.js';
import { assertNoPendingKeySwitch } from './master-key/pending-key.js';
import { requireCanary } from './master-key-canary.js';

/** How a command names its instance: `--instance NAME` (default "default") or `--config FILE`. */
export interface InstanceRef {
  instance?: string;
  config?: string;
  masterKeyFile?: string;
}

export interface Instance {
  name: string;
  configFile: string;
  config: InstanceConfig;
  key: MasterKey;
  target: ConnectionTarget;
}

export function instanceConfigFile(ref: InstanceRef): { name: string; configFile: string } {
  if (ref.config) return { name: ref.instance ?? 'default', configFile: path.resolve(ref.config) };
  const name = ref.instance ?? 'default';
  return { name, configFile: getInstance(name).configFile };
}

export function keyFileOf(config: InstanceConfig): string {
  return resolvePath(config, config.masterKeyFile);
}

/** Reads config and master key; touches no database. */
export function loadInstance(ref: InstanceRef): Instance {
  const { configFile } = instanceConfigFile(ref);
  const config = loadConfig(configFile);
  assertNoPendingKeySwitch(keyFileOf(config), config.instanceName);
  const key = resolveKey({ masterKeyFile: ref.masterKeyFile, instanceKeyFile: keyFileOf(config) });
  if (!key) {
    throw new PreconditionError(`No master key for instance "${config.instanceName}".`, {
      code: 'MASTER_KEY_MISSING',
      hints: [
        `The key file ${keyFileOf(config)} is missing. Supply the key with --master-key-file FILE or CUTTLE_MASTER_KEY.`,
      ],
    });
  }
  const target = openConnection(config.storage, key, config.home);
  return { name: config.instanceName, configFile, config, key, target };
}

export interface FenceMarker {
  movedTo: string;
  moved: string;
  moveId?: string;
  reason?: string;
}

export function fencedError(fence: FenceMarker, where: string): PreconditionError {
  return new PreconditionError(
    `The database at ${where} is fenced: it was moved to ${fence.movedTo} on ${fence.moved} and must not be used any more.`,
    {
      code: 'DATABASE_FENCED',
      hints: [
        `Point the instance at the new database: cuttle configure --storage-connection-string "<the new database>"`,
        'For a deliberate rollback to this copy, run `cuttle database unfence` first.',
      ],
    },
  );
}

export interface OpenChecks {
  /** Allow an older schema (only `database upgrade` and moves that upgrade on the way). */
  allowOlder?: boolean;
  allowFenced?: boolean;
}

/** Opens a database the instance may use: reachable, schema compatible, master key right, not fenced. */
export async function openCheckedStorage(
  target: ConnectionTarget,
  key: MasterKey,
  checks: OpenChecks = {},
): Promise<Storage> {
  const storage = await openStorage(target);
  try {
    await checkStorage(storage, key, checks);
    return storage;
  } catch (err) {
    await storage.close();
    throw err;
  }
}

export async function checkStorage(storage: Storage, key: MasterKey, checks: OpenChecks = {}): Promise<void> {
  const where = describeTarget(storage.target);
  const status = await schemaStatus(storage);
  if (status.state === 'newer') throw schemaTooNew(status, where);
  if (status.state === 'empty' || status.state === 'foreign') {
    throw new PreconditionError(`The database at ${where} holds no Cuttle schema.`, {
      code: 'DATABASE_EMPTY',
      hints: [
        'Restore a backup into it (`cuttle backup restore`) or create the schema with `cuttle database create`.',
      ],
    });
  }
  if (status.state === 'older' && !checks.allowOlder) {
    throw new PreconditionError(
      `The database at ${where} has schema version ${status.version}; this Cuttle needs ${status.latest}.`,
      { code: 'SCHEMA_OUTDATED', hints: ['Run `cuttle database upgrade` (take a backup first).'] },
    );
  }
  const restoring = await readRestoreMarker(storage.db);
  if (restoring) throw incompleteRestoreError(restoring, where);
  const moving = await getMeta(storage.db, 'move-in-progress');
  if (moving) {
    throw new PreconditionError(`The database at ${where} is the target of an unfinished database move.`, {
      code: 'DATABASE_MOVE_TARGET',
      hints: ['Finish it with `cuttle database move --resume` on the instance being moved.'],
    });
  }
  await requireCanary(storage.db, key, where);
  if (!checks.allowFenced) {
    const fence = await getMetaJson<FenceMarker>(storage.db, META.fence);
    if (fence) throw fencedError(fence, where);
  }
}

export async function openInstanceStorage(inst: Instance, checks: OpenChecks = {}): Promise<Storage> {
  return openCheckedStorage(inst.target, inst.key, checks);
}

export { configPathFor, migrateToLatest };
