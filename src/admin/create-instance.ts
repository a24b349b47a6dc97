import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ConnectionTarget, describeTarget, parseConnectionString } from '../config/connection-string.js';
import { CONFIG_FILE_NAME, configPathFor, createHomeLayout } from '../config/home-layout.js';
import { defaultConfig, loadConfig, saveConfig, sealConnection } from '../config/instance-config.js';
import { findInstance, registerInstance, validateInstanceName } from '../config/instance-registry.js';
import { suppliedKey, writeKeyFile } from '../crypto/key-source.js';
import { MasterKey } from '../crypto/master-key.js';
import { PreconditionError } from '../lib/errors.js';
import { migrateToLatest, schemaStatus, schemaTooNew } from '../storage/migrator.js';
import { getMeta, META, setMeta } from '../storage/repositories/metadata-repository.js';
import { dialectFactory, openStorage } from '../storage/storage.js';
import { requirePrivileges } from './database-admin.js';
import { checkCanary, writeCanary } from './master-key-canary.js';

export interface CreateInstanceInput {
  name: string;
  home: string;
  connectionString?: string;
  masterKeyFile?: string;
}

export interface CreateInstanceResult {
  name: string;
  home: string;
  configFile: string;
  storage: string;
  joined: boolean;
  schemaVersion: number;
  instanceId: string;
}

/**
 * Creates an instance: home layout, config, master key (0600), database schema, registry entry.
 * Against a database that already holds a Cuttle instance it joins it instead, which needs that
 * instance's master key; the key is proved against the canary before anything is written anywhere.
 */
export async function createInstance(input: CreateInstanceInput): Promise<CreateInstanceResult> {
  validateInstanceName(input.name);
  const home = path.resolve(input.home);
  const existing = findInstance(input.name);
  if (existing) {
    throw new PreconditionError(
      `An instance named "${input.name}" is already registered (${existing.configFile}).`,
      {
        code: 'INSTANCE_EXISTS',
        hints: ['Choose another --instance name, or `cuttle delete-instance` the old registration first.'],
      },
    );
  }
  const configFile = configPathFor(home);
  if (fs.existsSync(configFile)) {
    throw new PreconditionError(`${home} already holds an instance config (${CONFIG_FILE_NAME}).`, {
      code: 'INSTANCE_EXISTS',
      hints: [`To register it again: cuttle create-instance --instance ${input.name} --config ${configFile}`],
    });
  }
  const target: ConnectionTarget = input.connectionString
    ? parseConnectionString(input.connectionString)
    : { engine: 'sqlite', file: path.join(home, 'cuttle.db') };
  const supplied = suppliedKey({ masterKeyFile: input.masterKeyFile });

  const file = dialectFactory(target.engine).databaseFile(target);
  if (file !== undefined) fs.mkdirSync(path.dirname(file), { recursive: true });
  const storage = await openStorage(target, { create: true });
  let joined = false;
  let key: MasterKey;
  let instanceId: string;
  try {
    const status = await schemaStatus(storage);
    if (status.state === 'newer') throw schemaTooNew(status, storage.description);
    if (status.state === 'foreign') {
      throw new PreconditionError(
        `The database at ${storage.description} holds tables that are not Cuttle's.`,
        {
          code: 'DATABASE_NOT_CUTTLE',
          details: status.foreignTables,
          hints: ['Give Cuttle an empty database of its own.'],
        },
      );
    }
    const existingId = status.state === 'empty' ? undefined : await getMeta(storage.db, META.instanceId);
    if (existingId) {
      // Join: the database belongs to an instance already; only its master key may be used.
      if (!supplied) {
        throw new PreconditionError(
          `The database at ${storage.description} already holds a Cuttle instance.`,
          {
            code: 'DATABASE_HAS_INSTANCE',
            hints: [
              "To join it, supply that instance's master key with --master-key-file FILE or CUTTLE_MASTER_KEY.",
            ],
          },
        );
      }
      const canary = await checkCanary(storage.db, supplied);
      if (!canary.ok) {
        throw new PreconditionError(
          canary.reason === 'wrong-key'
            ? `The master key supplied is not the key of the instance in ${storage.description}.`
            : `The master-key canary of ${storage.description} cannot be checked (${canary.reason}).`,
          {
            code: 'MASTER_KEY_WRONG',
            hints: ['Use the key printed by `cuttle show-master-key` on a node of that instance.'],
          },
        );
      }
      if (status.state === 'older') {
        throw new PreconditionError(
          `The database at ${storage.description} has an older schema (${status.version}).`,
          { code: 'SCHEMA_OUTDATED', hints: ['Run `cuttle database upgrade` from an existing node first.'] },
        );
      }
      key = supplied;
      joined = true;
      instanceId = existingId;
    } else {
      key = supplied ?? MasterKey.generate();
      await requirePrivileges(storage);
      await migrateToLatest(storage);
      instanceId = randomUUID();
      await writeCanary(storage.db, key);
      await setMeta(storage.db, META.instanceId, instanceId);
      await setMeta(storage.db, META.installationId, randomUUID());
    }
    const after = await schemaStatus(storage);
    createHomeLayout(home);
    writeKeyFile(path.join(home, 'master.key'), key);
    const cfg = defaultConfig(input.name, home, sealConnection(target, key));
    saveConfig(configFile, cfg);
    registerInstance(input.name, configFile);
    return {
      name: input.name,
      home,
      configFile,
      storage: describeTarget(target),
      joined,
      schemaVersion: after.version,
      instanceId,
    };
  } finally {
    await storage.close();
  }
}

/** Re-registers an instance whose files were moved by hand (Octopus's `create-instance --config`). */
export function registerExistingConfig(
  name: string,
  configFile: string,
): { name: string; home: string; configFile: string } {
  validateInstanceName(name);
  const file = path.resolve(configFile);
  const cfg = loadConfig(file);
  const home = path.dirname(file);
  if (cfg.home !== home || cfg.instanceName !== name) {
    cfg.history.push({
      changed: new Date().toISOString(),
      setting: 'home',
      previous: cfg.home,
      note: 're-registered',
    });
    cfg.home = home;
    cfg.instanceName = name;
    saveConfig(file, cfg);
  }
  registerInstance(name, file);
  return { name, home, configFile: file };
}
