import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError, PreconditionError } from '../lib/errors.js';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';

/**
 * The instance registry maps instance names to config files, like Octopus's registry key.
 * Location: $CUTTLE_REGISTRY, else /etc/cuttle/instances.json for root, else ~/.config/cuttle/instances.json.
 */
export interface RegistryEntry {
  name: string;
  configFile: string;
  registered: string;
}

interface RegistryFile {
  format: 'cuttle-registry/1';
  instances: RegistryEntry[];
}

export function registryPath(): string {
  if (process.env.CUTTLE_REGISTRY) return path.resolve(process.env.CUTTLE_REGISTRY);
  if (process.getuid?.() === 0) return '/etc/cuttle/instances.json';
  return path.join(os.homedir(), '.config', 'cuttle', 'instances.json');
}

function read(): RegistryFile {
  const file = registryPath();
  if (!fs.existsSync(file)) return { format: 'cuttle-registry/1', instances: [] };
  try {
    return readJsonFile<RegistryFile>(file);
  } catch {
    throw new PreconditionError(`The instance registry ${file} is not valid JSON.`, {
      code: 'CONFIG_INVALID',
      hints: ['Fix or remove it; `cuttle create-instance --config FILE` registers an instance again.'],
    });
  }
}

function write(reg: RegistryFile): void {
  writeFileAtomic(registryPath(), `${JSON.stringify(reg, null, 2)}\n`);
}

export function listInstances(): RegistryEntry[] {
  return read().instances;
}

export function findInstance(name: string): RegistryEntry | undefined {
  return read().instances.find((i) => i.name === name);
}

export function getInstance(name: string): RegistryEntry {
  const entry = findInstance(name);
  if (!entry) {
    throw new NotFoundError(`There is no instance named "${name}" in the registry ${registryPath()}.`, {
      code: 'INSTANCE_NOT_FOUND',
      hints: ['`cuttle list-instances` shows the registered ones; `cuttle create-instance` creates one.'],
    });
  }
  return entry;
}

export function registerInstance(name: string, configFile: string, opts: { replace?: boolean } = {}): void {
  const reg = read();
  const existing = reg.instances.find((i) => i.name === name);
  if (existing && !opts.replace && path.resolve(existing.configFile) !== path.resolve(configFile)) {
    throw new PreconditionError(
      `An instance named "${name}" is already registered (${existing.configFile}).`,
      {
        code: 'INSTANCE_EXISTS',
        hints: ['Choose another --instance name, or `cuttle delete-instance` the old registration first.'],
      },
    );
  }
  reg.instances = reg.instances.filter((i) => i.name !== name);
  reg.instances.push({ name, configFile: path.resolve(configFile), registered: new Date().toISOString() });
  write(reg);
}

export function unregisterInstance(name: string): RegistryEntry {
  const reg = read();
  const entry = getInstance(name);
  reg.instances = reg.instances.filter((i) => i.name !== name);
  write(reg);
  return entry;
}

export function validateInstanceName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new PreconditionError(`"${name}" is not a valid instance name.`, {
      code: 'INSTANCE_NAME_INVALID',
      hints: [
        'Use letters, digits, ".", "_" and "-" (at most 64 characters), starting with a letter or digit.',
      ],
    });
  }
}
