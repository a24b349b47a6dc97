import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeFailure } from '../../lib/errors.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { bulkLoadText } from '../../storage/bulk-load/bulk-loader.js';
import {
  buildIndexes,
  buildMissingIndexes,
  deferIndexesFromRows,
  dropIndexes,
} from '../../storage/bulk-load/deferred-indexes.js';
import { RowTextHasher, wholeLines } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Storage } from '../../storage/storage.js';
import { fileOfEntry, type Manifest, tableOfEntry } from './archive-format.js';
import { legacyLinesToRowText } from './archive-format-1.js';
import { type ArchiveEntryHeader, ArchiveReader } from './archive-reader.js';
import { safeJoin } from './backup-files.js';
import { checkRestoredTable } from './restore-target.js';

export interface LoadOptions {
  /** Load the tables (false: files only). */
  database: boolean;
  /** Where files go, by data folder; undefined skips the files. */
  fileDestinations?: Map<string, string>;
  progress?: ProgressReporter;
}

/**
 * The second pass of a restore: streams each table's chunks straight into the engine's bulk loader
 * (one table in memory at most one chunk at a time); a change of the file since the verify pass
 * shows in the target's digest (format 1 chunks are re-hashed as they are converted). A big table
 * loads without its indexes (deferred-indexes.ts); in the background, while the next table loads,
 * its indexes are built and the table is re-hashed on the target: the target's own row text MUST
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
  /** Row text digests where they differ from the manifest's (format 1 archives). */
  const targetDigests = new Map<string, string>();
  // the verify pass checked archive.sha256 and every digest; what counts now is the target's
  const reader = new ArchiveReader(file, { checksum: false });
  const failures: string[] = [];
  // Two lanes of index builds and checks behind the load, so a big table's check does not hold
  // up the next table's (the load itself is one stream: the archive is read in order).
  const lanes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  let lane = 0;
  const settled = () => Promise.all(lanes.map((l) => l.catch(() => {})));
  const verify = (spec: TableSpec, deferred = false) => {
    const i = lane++ % lanes.length;
    lanes[i] = lanes[i]!.then(async () => {
      if (deferred) await buildIndexes(storage!, spec);
      const want = expected.get(spec.name)!;
      const sha256 = targetDigests.get(spec.name) ?? want.sha256;
      const got = await checkRestoredTable(storage!, spec, { rows: want.rows, sha256 });
      if (!got.matches) {
        failures.push(
          `table ${spec.name} on the target: ${got.rows} rows, sha256 ${got.sha256}; the archive has ${want.rows} rows, sha256 ${sha256}`,
        );
      }
    });
    lanes[i]!.catch(() => {});
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
        // Format 1 chunks are JSON lines: converted to row text, whose digest the target must match;
        // their own digest is checked again here (the file could have changed since the verify
        // pass). Format 2 chunks go to the loader as they are: a change since the verify pass
        // shows in the target's digest, which must match the manifest.
        const legacy = state.entry.name.endsWith('.ndjson')
          ? { archived: createHash('sha256'), converted: new RowTextHasher() }
          : undefined;
        async function* text(): AsyncGenerator<Buffer> {
          while (state.entry && tableOfEntry(state.entry.name) === table) {
            if (legacy) {
              const body = await reader.readBody();
              legacy.archived.update(body);
              const converted = legacyLinesToRowText(spec!, body);
              legacy.converted.add(converted);
              yield converted;
            } else yield* reader.bodyChunks();
            state.entry = await reader.next();
          }
        }
        const deferred = (expected.get(table)?.rows ?? 0) >= deferIndexesFromRows();
        if (deferred) await dropIndexes(storage, spec);
        await bulkLoadText(storage, spec, wholeLines(text(), table), {
          // the target's check reads it back in natural order (restore-target.ts); the restore
          // marker in instance_metadata must stay
          replace: table !== 'instance_metadata',
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
        if (legacy) {
          const digest = legacy.archived.digest('hex');
          if (digest !== expected.get(table)?.sha256) {
            throw new RuntimeFailure(
              `The archive's table ${table} changed since it was verified (sha256 ${digest}).`,
            );
          }
          targetDigests.set(table, legacy.converted.digest());
        }
        loadedTables.add(table);
        verify(spec, deferred);
        continue;
      }
      const f = fileOfEntry(name);
      const dest = f && opts.fileDestinations?.get(f.folder);
      if (f && dest) {
        await restoreFile(reader, safeJoin(dest, f.path), fileHashes.get(`${f.folder}/${f.path}`), f);
      }
      state.entry = await reader.next();
    }
  } catch (err) {
    // nothing may still be building on the target while the caller puts the restore point back
    await settled();
    throw err;
  } finally {
    reader.close();
  }
  if (opts.database && storage) {
    for (const t of manifest.tables)
      if (!loadedTables.has(t.name) && t.rows === 0) verify(specs.get(t.name)!);
    progress.update({ step: 'Load', done: loaded, total: manifest.totals.rows, unit: 'rows', state: 'done' });
    await Promise.all(lanes);
    // an earlier restore may have died between dropping a table's indexes and building them
    await buildMissingIndexes(storage, [...specs.values()]);
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
