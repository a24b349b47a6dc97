import path from 'node:path';
import { describeTarget, parseConnectionString, sameDatabase } from '../config/connection-string.js';
import {
  describeStored,
  type InstanceConfig,
  pushHistory,
  saveConfig,
  sealConnection,
} from '../config/instance-config.js';
import { PreconditionError, UsageError } from '../lib/errors.js';
import { getMeta, META } from '../storage/repositories/metadata-repository.js';
import { readPassphraseFile } from './backup/backup-key.js';
import { type Instance, openCheckedStorage } from './instance-context.js';

export interface ConfigureInput {
  storageConnectionString?: string;
  listen?: string;
  nodeName?: string;
  taskCap?: number;
  /** The backup passphrase file (checked, never read out); false removes it. */
  backupPassphraseFile?: string | false;
  keepWorkFolders?: boolean;
  skipValidation?: boolean;
  /** Accept a database whose instance id differs from the current database's. */
  allowOtherInstance?: boolean;
}

export interface ConfigureResult {
  changed: string[];
  config: InstanceConfig;
}

/**
 * Changes instance settings. A new connection string is validated first (reachable, authenticated,
 * compatible schema, the master key opens the canary, not fenced, same instance); on failure nothing
 * is saved. The old value goes to the config history, so a rollback is `configure` with the old value.
 */
export async function configureInstance(inst: Instance, input: ConfigureInput): Promise<ConfigureResult> {
  const cfg = structuredClone(inst.config);
  const changed: string[] = [];
  if (input.listen !== undefined) {
    let url: URL;
    try {
      url = new URL(input.listen);
    } catch {
      throw new UsageError(`--listen "${input.listen}" is not a URL.`, {
        code: 'OPTION_INVALID',
        hints: ['Example: --listen http://0.0.0.0:8080'],
      });
    }
    if (url.protocol !== 'http:')
      throw new UsageError('--listen must be an http:// URL (put TLS in a reverse proxy).', {
        code: 'OPTION_INVALID',
      });
    if (!url.port)
      throw new UsageError('--listen must name a port, e.g. http://0.0.0.0:8080', { code: 'OPTION_INVALID' });
    pushHistory(cfg, 'listen', cfg.listen);
    cfg.listen = `http://${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port}`;
    changed.push('listen');
  }
  if (input.nodeName !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(input.nodeName)) {
      throw new UsageError(`"${input.nodeName}" is not a valid node name (letters, digits, ".", "_", "-").`, {
        code: 'OPTION_INVALID',
      });
    }
    pushHistory(cfg, 'nodeName', cfg.nodeName);
    cfg.nodeName = input.nodeName;
    changed.push('nodeName');
  }
  if (input.taskCap !== undefined) {
    if (!Number.isInteger(input.taskCap) || input.taskCap < 0 || input.taskCap > 1000) {
      throw new UsageError('--task-cap must be a whole number from 0 to 1000 (0: this node runs no tasks).', {
        code: 'OPTION_INVALID',
      });
    }
    pushHistory(cfg, 'taskCap', cfg.taskCap);
    cfg.taskCap = input.taskCap;
    changed.push('taskCap');
  }
  if (input.keepWorkFolders !== undefined) {
    pushHistory(cfg, 'keepWorkFolders', cfg.keepWorkFolders ?? false);
    cfg.keepWorkFolders = input.keepWorkFolders;
    changed.push('keepWorkFolders');
  }
  if (input.backupPassphraseFile !== undefined) {
    pushHistory(cfg, 'backupPassphraseFile', cfg.backupPassphraseFile ?? null);
    if (input.backupPassphraseFile === false) delete cfg.backupPassphraseFile;
    else {
      const file = path.resolve(input.backupPassphraseFile);
      // the same checks a backup makes when it reads it (exists, long enough), now and not at 02:00
      readPassphraseFile(file);
      cfg.backupPassphraseFile = file;
    }
    changed.push('backupPassphraseFile');
  }
  if (input.storageConnectionString !== undefined) {
    const target = parseConnectionString(input.storageConnectionString);
    if (!input.skipValidation) {
      const storage = await openCheckedStorage(target, inst.key);
      try {
        if (!input.allowOtherInstance && !sameDatabase(target, inst.target)) {
          const newId = await getMeta(storage.db, META.instanceId);
          const currentId = await currentInstanceId(inst);
          if (currentId && newId && newId !== currentId) {
            throw new PreconditionError(
              `The database at ${describeTarget(target)} belongs to another Cuttle instance (${newId}).`,
              {
                code: 'DATABASE_OTHER_INSTANCE',
                hints: ['If that is intended (e.g. a restored copy), add --allow-other-instance.'],
              },
            );
          }
        }
      } finally {
        await storage.close();
      }
    }
    pushHistory(cfg, 'storage', cfg.storage, `was ${describeStored(cfg.storage, cfg.home)}`);
    cfg.storage = sealConnection(target, inst.key);
    changed.push('storage');
  }
  if (!changed.length) {
    throw new UsageError('Nothing to configure: give at least one setting.', {
      code: 'USAGE_INVALID',
      hints: ['cuttle configure --help lists them.'],
    });
  }
  saveConfig(inst.configFile, cfg);
  return { changed, config: cfg };
}

/** The instance id of the database the instance uses now, if it can be read (it may be gone). */
async function currentInstanceId(inst: Instance): Promise<string | undefined> {
  try {
    const storage = await openCheckedStorage(inst.target, inst.key, { allowFenced: true, allowOlder: true });
    try {
      return await getMeta(storage.db, META.instanceId);
    } finally {
      await storage.close();
    }
  } catch {
    return undefined;
  }
}
