import fs from 'node:fs';
import path from 'node:path';

/**
 * The home directory of an instance:
 *   cuttle.config.json  instance config (no secret in clear)
 *   master.key          the master key, mode 0600
 *   logs/               server logs
 *   artifacts/ packages/ files a database backup alone would miss
 *   backups/            default place for backup archives
 *   run/                pid file and service state
 *   work/               per-task working folders (scratch, never backed up)
 * Task logs are not here: they live in the database (docs/architecture.md says why).
 */
export const CONFIG_FILE_NAME = 'cuttle.config.json';
export const MASTER_KEY_FILE_NAME = 'master.key';
const HOME_FOLDERS = ['logs', 'artifacts', 'packages', 'backups', 'run', 'work'] as const;
export type HomeFolder = (typeof HOME_FOLDERS)[number];

export function configPathFor(home: string): string {
  return path.join(home, CONFIG_FILE_NAME);
}

export function createHomeLayout(home: string): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o750 });
  for (const f of HOME_FOLDERS) fs.mkdirSync(path.join(home, f), { recursive: true });
}

/** Folders whose files belong in a backup and travel with a move of the home directory. */
export const DATA_FOLDERS = ['artifacts', 'packages'] as const;
