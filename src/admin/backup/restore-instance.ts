import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionTarget } from '../../config/connection-string.js';
import { configPathFor, createHomeLayout, DATA_FOLDERS } from '../../config/home-layout.js';
import {
  defaultConfig,
  describeStored,
  type InstanceConfig,
  loadConfig,
  pushHistory,
  saveConfig,
  sealConnection,
} from '../../config/instance-config.js';
import { findInstance, registerInstance, validateInstanceName } from '../../config/instance-registry.js';
import { writeKeyFile } from '../../crypto/key-source.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import { requireWritableFolder } from '../../lib/path-checks.js';
import type { PortableConfig } from './archive-format.js';

/** What a restore does to instances: nothing, create and register a new one, or repoint an existing one. */
export type InstancePlan =
  | { kind: 'none'; home?: string }
  | { kind: 'new'; name: string; home: string; configFile: string }
  | { kind: 'existing'; name: string; home: string; configFile: string; config: InstanceConfig };

/** Decided, and every refusal raised, before the restore writes anything. */
export function planInstance(opts: { instance?: string; home?: string; overwrite?: boolean }): InstancePlan {
  if (!opts.instance) return { kind: 'none', home: opts.home ? path.resolve(opts.home) : undefined };
  validateInstanceName(opts.instance);
  const entry = findInstance(opts.instance);
  if (entry) {
    if (!opts.overwrite) {
      throw new PreconditionError(
        `An instance named "${opts.instance}" exists already (${entry.configFile}).`,
        {
          code: 'INSTANCE_EXISTS',
          hints: [
            'Add --overwrite to restore over it, or name a new instance with --instance NAME --home DIR.',
          ],
        },
      );
    }
    const config = loadConfig(entry.configFile);
    if (opts.home && path.resolve(opts.home) !== path.resolve(config.home)) {
      throw new UsageError(
        `Instance "${opts.instance}" lives in ${config.home}; --home names another folder.`,
        { code: 'OPTION_INVALID' },
      );
    }
    return { kind: 'existing', name: opts.instance, home: config.home, configFile: entry.configFile, config };
  }
  if (!opts.home) {
    throw new UsageError(
      `Instance "${opts.instance}" does not exist yet: give its home folder with --home DIR.`,
      { code: 'OPTION_MISSING' },
    );
  }
  const home = path.resolve(opts.home);
  // before the load: a read-only or immutable home was refused only after the whole load
  requireWritableFolder(home, 'The home folder');
  const configFile = configPathFor(home);
  if (fs.existsSync(configFile) && !opts.overwrite) {
    throw new PreconditionError(`${home} already holds an instance config.`, {
      code: 'INSTANCE_EXISTS',
      hints: ['Choose an empty home folder, or add --overwrite to replace it.'],
    });
  }
  return { kind: 'new', name: opts.instance, home, configFile };
}

/** The folders restored files go to, by data folder name. */
export function fileDestinations(
  plan: InstancePlan,
  portable?: PortableConfig,
): Map<string, string> | undefined {
  const home = plan.home;
  if (!home) return undefined;
  const paths =
    plan.kind === 'existing'
      ? plan.config.paths
      : (portable?.paths ?? { artifacts: 'artifacts', packages: 'packages' });
  return new Map(DATA_FOLDERS.map((f) => [f, path.resolve(home, paths[f])]));
}

/** Writes home layout, master key (0600), config (password sealed) and registry entry. */
export function applyInstance(
  plan: InstancePlan,
  target: ConnectionTarget,
  key: MasterKey,
  portable?: PortableConfig,
  nodeName?: string,
): string | undefined {
  if (plan.kind === 'none') return undefined;
  if (plan.kind === 'new') {
    createHomeLayout(plan.home);
    writeKeyFile(path.join(plan.home, 'master.key'), key);
    const cfg = defaultConfig(plan.name, plan.home, sealConnection(target, key));
    if (portable) {
      cfg.listen = portable.listen;
      cfg.taskCap = portable.taskCap;
      cfg.paths = portable.paths;
    }
    if (nodeName) cfg.nodeName = nodeName;
    pushHistory(cfg, 'created', null, 'restored from a backup archive');
    saveConfig(plan.configFile, cfg);
    registerInstance(plan.name, plan.configFile);
    return plan.configFile;
  }
  const cfg = plan.config;
  const keyFile = path.resolve(cfg.home, cfg.masterKeyFile);
  if (fs.existsSync(keyFile)) {
    const old = fs.readFileSync(keyFile, 'utf8').trim();
    if (old !== key.toBase64()) {
      const kept = `${keyFile}.before-restore-${Date.now()}`;
      fs.copyFileSync(keyFile, kept);
      fs.chmodSync(kept, 0o600);
    }
  }
  createHomeLayout(cfg.home);
  writeKeyFile(keyFile, key);
  pushHistory(cfg, 'storage', describeStored(cfg.storage, cfg.home), 'backup restore');
  if (nodeName && nodeName !== cfg.nodeName) {
    pushHistory(cfg, 'nodeName', cfg.nodeName, 'backup restore');
    cfg.nodeName = nodeName;
  }
  cfg.storage = sealConnection(target, key);
  saveConfig(plan.configFile, cfg);
  return plan.configFile;
}
