import fs from 'node:fs';
import path from 'node:path';
import { DATA_FOLDERS } from '../../config/home-layout.js';
import { type InstanceConfig, resolvePath } from '../../config/instance-config.js';
import { PreconditionError } from '../../lib/errors.js';

export interface DataFile {
  folder: (typeof DATA_FOLDERS)[number];
  /** Relative to the folder, always with "/" separators. */
  path: string;
  absolute: string;
  size: number;
}

function dataFolder(config: InstanceConfig, folder: (typeof DATA_FOLDERS)[number]): string {
  return resolvePath(config, config.paths[folder]);
}

/** Regular files under the data folders (artifacts, packages), sorted; symlinks and specials are skipped. */
export function listDataFiles(config: InstanceConfig): DataFile[] {
  const out: DataFile[] = [];
  for (const folder of DATA_FOLDERS) {
    const root = dataFolder(config, folder);
    if (!fs.existsSync(root)) continue;
    const walk = (dir: string) => {
      for (const ent of fs
        .readdirSync(dir, { withFileTypes: true })
        .sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const abs = path.join(dir, ent.name);
        if (ent.isDirectory()) walk(abs);
        else if (ent.isFile()) {
          out.push({
            folder,
            path: path.relative(root, abs).split(path.sep).join('/'),
            absolute: abs,
            size: fs.statSync(abs).size,
          });
        }
      }
    };
    walk(root);
  }
  return out;
}

/** Where an archived file goes under a folder; refuses names that would escape it ("../", absolute). */
export function safeJoin(root: string, relPath: string): string {
  const target = path.resolve(root, relPath);
  if (path.isAbsolute(relPath) || relPath.split('/').includes('..') || !target.startsWith(root + path.sep)) {
    throw new PreconditionError(`The archive holds a file name that escapes its folder: ${relPath}`, {
      code: 'ARCHIVE_DAMAGED',
    });
  }
  return target;
}
