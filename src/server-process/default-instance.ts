import fs from 'node:fs';
import path from 'node:path';
import { createInstance, registerExistingConfig } from '../admin/create-instance.js';
import type { InstanceRef } from '../admin/instance-context.js';
import { configPathFor } from '../config/home-layout.js';
import { findInstance } from '../config/instance-registry.js';

const DEFAULT_INSTANCE = 'default';
/** Where `npm start` keeps its instance when none is registered: a folder of the checkout. */
const DEFAULT_HOME_FOLDER = '.cuttle-home';

/**
 * `cuttle run` with no registered instance creates one, so the README's first command starts a
 * working server: SQLite in `./.cuttle-home`. It only happens for an instance that is not
 * registered and only with an explicit --home or the default instance name; anything else is an
 * error from the registry as usual. Returns lines saying what it did.
 */
export async function ensureRunnableInstance(ref: InstanceRef & { home?: string }): Promise<string[]> {
  if (ref.config) return [];
  const name = ref.instance ?? DEFAULT_INSTANCE;
  if (findInstance(name)) return [];
  if (!ref.home && name !== DEFAULT_INSTANCE) return [];
  const home = path.resolve(ref.home ?? DEFAULT_HOME_FOLDER);
  if (fs.existsSync(configPathFor(home))) {
    const r = registerExistingConfig(name, configPathFor(home));
    return [`Registered the existing instance "${r.name}" from ${r.configFile}.`];
  }
  const r = await createInstance({ name, home, masterKeyFile: ref.masterKeyFile });
  return [
    `Created instance "${r.name}" in ${r.home} (${r.storage}).`,
    'Save a copy of its master key somewhere safe: `cuttle show-master-key` prints it.',
  ];
}
