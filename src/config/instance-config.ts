import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, seal } from '../crypto/envelope.js';
import type { MasterKey } from '../crypto/master-key.js';
import { nowIso } from '../lib/clock.js';
import { PreconditionError } from '../lib/errors.js';
import { registerSecret } from '../lib/redact.js';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import {
  type ConnectionTarget,
  describeTarget,
  formatTarget,
  isServerTarget,
  parseConnectionString,
} from './connection-string.js';
import { MASTER_KEY_FILE_NAME } from './home-layout.js';

/**
 * The instance config file. The storage password is sealed with the master key, so the file can
 * be read, shown and copied without exposing it (Octopus keeps its connection string DPAPI-sealed,
 * which ties the file to one machine; ours travels with the key).
 */
export interface StoredConnection {
  /** The connection string without its password (URL form). */
  connectionString: string;
  /** The password as an envelope under the master key, if there is one. */
  sealedPassword?: string;
}

export interface ConfigHistoryEntry {
  changed: string;
  setting: string;
  previous: unknown;
  note?: string;
}

export interface InstanceConfig {
  format: 'cuttle-config/1';
  instanceName: string;
  home: string;
  storage: StoredConnection;
  /** Where the master key file is; relative paths are relative to home. */
  masterKeyFile: string;
  listen: string;
  nodeName: string;
  taskCap: number;
  paths: { artifacts: string; packages: string; backups: string };
  /**
   * A file holding the passphrase that seals the master key into every backup this node writes
   * without one given (scheduled and REST backups). Only the path is kept here: the file stays
   * on the machine, readable by the service account, and never goes into an archive.
   */
  backupPassphraseFile?: string;
  /**
   * Keep the work folder of a failed step (with sensitive values masked in its script) for
   * troubleshooting; off by default, when every work folder is removed as its step ends.
   */
  keepWorkFolders?: boolean;
  history: ConfigHistoryEntry[];
}

const DEFAULT_LISTEN = 'http://127.0.0.1:8080';
const DEFAULT_TASK_CAP = 5;

export function defaultConfig(instanceName: string, home: string, storage: StoredConnection): InstanceConfig {
  return {
    format: 'cuttle-config/1',
    instanceName,
    home,
    storage,
    masterKeyFile: MASTER_KEY_FILE_NAME,
    listen: DEFAULT_LISTEN,
    nodeName: os.hostname(),
    taskCap: DEFAULT_TASK_CAP,
    paths: { artifacts: 'artifacts', packages: 'packages', backups: 'backups' },
    history: [],
  };
}

export function loadConfig(file: string): InstanceConfig {
  if (!fs.existsSync(file)) {
    throw new PreconditionError(`The instance config file ${file} does not exist.`, {
      code: 'CONFIG_MISSING',
      hints: ['Create the instance with `cuttle create-instance`, or point --config at the right file.'],
    });
  }
  let cfg: InstanceConfig;
  try {
    cfg = readJsonFile<InstanceConfig>(file);
  } catch {
    throw new PreconditionError(`The instance config file ${file} is not valid JSON.`, {
      code: 'CONFIG_INVALID',
    });
  }
  if (cfg.format !== 'cuttle-config/1') {
    throw new PreconditionError(`${file} is not a Cuttle instance config (format "${String(cfg.format)}").`, {
      code: 'CONFIG_INVALID',
    });
  }
  return cfg;
}

export function saveConfig(file: string, cfg: InstanceConfig): void {
  writeFileAtomic(file, `${JSON.stringify(cfg, null, 2)}\n`, 0o640);
}

export function sealConnection(target: ConnectionTarget, key: MasterKey): StoredConnection {
  if (!isServerTarget(target) || !target.password) return { connectionString: formatTarget(target) };
  return {
    connectionString: formatTarget({ ...target, password: undefined }),
    sealedPassword: seal(key, target.password),
  };
}

export function openConnection(stored: StoredConnection, key: MasterKey, home: string): ConnectionTarget {
  const target = parseConnectionString(stored.connectionString, home);
  if (isServerTarget(target) && stored.sealedPassword) {
    const password = open(key, stored.sealedPassword);
    registerSecret(password);
    return { ...target, password };
  }
  return target;
}

export function describeStored(stored: StoredConnection, home: string): string {
  const t = parseConnectionString(stored.connectionString, home);
  return describeTarget(isServerTarget(t) ? { ...t, password: stored.sealedPassword ? 'x' : undefined } : t);
}

export function resolvePath(cfg: InstanceConfig, p: string): string {
  return path.resolve(cfg.home, p);
}

export function pushHistory(cfg: InstanceConfig, setting: string, previous: unknown, note?: string): void {
  cfg.history.push({ changed: nowIso(), setting, previous, ...(note ? { note } : {}) });
}
