import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Storage } from '../../storage/storage.js';
import { archiveExtension } from './archive-compression.js';
import { writeBackup } from './backup-create.js';
import { readAndVerify } from './backup-verify.js';
import { loadArchive } from './restore-load.js';
import { prepareSchema, removeMarker, wipeTarget } from './restore-target.js';

/**
 * A restore point is a database-only backup archive of the target, taken before `--overwrite`
 * drops anything, and loaded back if the restore fails. It needs no key: it is put back into the
 * same database it came from, sealed values and canary included.
 */
export async function takeRestorePoint(
  storage: Storage,
  dir = os.tmpdir(),
  progress?: ProgressReporter,
): Promise<string> {
  const file = path.join(dir, `cuttle-restore-point-${Date.now()}-${process.pid}${archiveExtension()}`);
  await writeBackup({ storage, output: file, instanceName: 'restore-point', files: false, progress });
  return file;
}

export async function rollBack(
  storage: Storage,
  file: string,
  tables: TableSpec[],
  progress: ProgressReporter = silentProgress,
): Promise<void> {
  const contents = await readAndVerify(file);
  await wipeTarget(
    storage,
    tables.map((t) => t.name),
  );
  await prepareSchema(storage, contents.manifest.schemaVersion, tables, {
    archive: file,
    started: new Date().toISOString(),
    pid: process.pid,
  });
  await loadArchive({
    file,
    storage,
    specs: new Map(tables.map((t) => [t.name, t])),
    manifest: contents.manifest,
    database: true,
    progress,
  });
  await removeMarker(storage);
}

export function discardRestorePoint(file: string | undefined): void {
  if (file) fs.rmSync(file, { force: true });
}
