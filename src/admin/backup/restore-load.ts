import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeFailure } from '../../lib/errors.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { bulkLoad } from '../../storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../storage/codecs.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Storage } from '../../storage/storage.js';
import { fileOfEntry, type Manifest, tableOfEntry } from './archive-format.js';
import { type ArchiveEntryHeader, ArchiveReader } from './archive-reader.js';
import { safeJoin } from './backup-files.js';
import { hashRestoredTable } from './restore-target.js';

const LOAD_BATCH = 2000;

export interface LoadOptions {
  /** Load the tables (false: files only). */
  database: boolean;
  /** Where files go, by data folder; undefined skips the files. */
  fileDestinations?: Map<string, string>;
  progress?: ProgressReporter;
}

/**
 * The second pass of a restore: streams each table's chunks straight into the engine's bulk loader
 * (one table in memory at most one chunk at a time), checks each table's SHA-256 again as it goes
 * (the file could have changed since the verify pass), and re-hashes every loaded table on the
 * target in the background while the next one loads: the target's own canonical encoding MUST
 * match the manifest, or the restore fails.
 */
export async function loadArchive(
  file: string,
  storage: Storage | undefined,
  specs: Map<string, TableSpec>,
  manifest: Manifest,
  opts: LoadOptions,
): Promise<void> {
  const progress = opts.progress ?? silentProgress;
  const expected = new Map(manifest.tables.map((t) => [t.name, t]));
  const reader = new ArchiveReader(file);
  const failures: string[] = [];
  let verifying: Promise<void> = Promise.resolve();
  const verify = (spec: TableSpec) => {
    verifying = verifying.then(async () => {
      const got = await hashRestoredTable(storage!, spec);
      const want = expected.get(spec.name)!;
      if (got.rows !== want.rows || got.sha256 !== want.sha256) {
        failures.push(
          `table ${spec.name} on the target: ${got.rows} rows, sha256 ${got.sha256}; the archive has ${want.rows} rows, sha256 ${want.sha256}`,
        );
      }
    });
    verifying.catch(() => {});
  };
  const state: { entry: ArchiveEntryHeader | null } = { entry: null };
  let loaded = 0;
  const loadedTables = new Set<string>();
  const fileHashes = new Map(manifest.files.map((m) => [`${m.folder}/${m.path}`, m.sha256]));
  try {
    state.entry = await reader.next();
    while (state.entry) {
      const name = state.entry.name;
      const table = tableOfEntry(name);
      if (table && opts.database && storage) {
        const spec = specs.get(table);
        if (!spec)
          throw new RuntimeFailure(`The archive holds table ${table}, unknown at its schema version.`);
        const hash = createHash('sha256');
        async function* batches(): AsyncGenerator<CanonicalValue[][]> {
          while (state.entry && tableOfEntry(state.entry.name) === table) {
            const body = await reader.readBody();
            hash.update(body);
            const text = body.toString('utf8');
            let batch: CanonicalValue[][] = [];
            let start = 0;
            for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
              batch.push(JSON.parse(text.slice(start, i)) as CanonicalValue[]);
              start = i + 1;
              if (batch.length >= LOAD_BATCH) {
                yield batch;
                batch = [];
              }
            }
            if (batch.length) yield batch;
            state.entry = await reader.next();
          }
        }
        await bulkLoad(storage, spec, batches(), {
          onProgress: (rows) => {
            loaded += rows;
            progress.update({
              step: 'Load',
              done: loaded,
              total: manifest.totals.rows,
              unit: 'rows',
              message: `(${table})`,
            });
          },
        });
        const digest = hash.digest('hex');
        if (digest !== expected.get(table)?.sha256) {
          throw new RuntimeFailure(
            `The archive's table ${table} changed since it was verified (sha256 ${digest}).`,
          );
        }
        loadedTables.add(table);
        verify(spec);
        continue;
      }
      const f = fileOfEntry(name);
      const dest = f && opts.fileDestinations?.get(f.folder);
      if (f && dest) {
        await restoreFile(reader, safeJoin(dest, f.path), fileHashes.get(`${f.folder}/${f.path}`), f);
      }
      state.entry = await reader.next();
    }
  } finally {
    reader.close();
  }
  if (opts.database && storage) {
    for (const t of manifest.tables)
      if (!loadedTables.has(t.name) && t.rows === 0) verify(specs.get(t.name)!);
    progress.update({ step: 'Load', done: loaded, total: manifest.totals.rows, unit: 'rows', state: 'done' });
    await verifying;
    if (failures.length) {
      throw new RuntimeFailure('The restored tables do not match the archive.', { details: failures });
    }
  }
}

async function restoreFile(
  reader: ArchiveReader,
  target: string,
  want: string | undefined,
  f: { folder: string; path: string },
): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.restoring-${process.pid}`;
  const hash = createHash('sha256');
  const fd = fs.openSync(tmp, 'w', 0o640);
  try {
    for await (const piece of reader.bodyChunks()) {
      hash.update(piece);
      fs.writeSync(fd, piece);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (hash.digest('hex') !== want) {
    fs.rmSync(tmp, { force: true });
    throw new RuntimeFailure(`The archive's file ${f.folder}/${f.path} changed since it was verified.`);
  }
  fs.renameSync(tmp, target);
}
