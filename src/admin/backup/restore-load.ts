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
import { ArchiveDamagedError, type ArchiveEntryHeader, ArchiveReader } from './archive-reader.js';
import { safeJoin } from './backup-files.js';
import { type ArchiveChecker, type ArchiveContents, failsVerification } from './backup-verify.js';
import { checkRestoredTable } from './restore-target.js';

export interface LoadOptions {
  /** Load the tables (false: files only). */
  database: boolean;
  /** Where files go, by data folder; undefined skips the files. */
  fileDestinations?: Map<string, string>;
  progress?: ProgressReporter;
}

/**
 * A single-pass restore (backup-restore.ts): the archive was not verified beforehand, so this pass
 * feeds every entry to `checker` as it loads it, checks each table on the target against the bytes
 * that went in, writes files under temporary names, and only at the end, with the manifest read,
 * compares everything with it. Any difference throws (the caller empties the target again) before
 * a file takes its real name.
 */
export interface SinglePass {
  checker: ArchiveChecker;
  /** The header's row counts, for deferring index builds and for progress. */
  rowCounts: Record<string, number>;
}

/**
 * The second pass of a restore (or the only one, with `single`): streams each table's chunks
 * straight into the engine's bulk loader (one table in memory at most one chunk at a time); a
 * change of the file since the verify pass shows in the target's digest (format 1 chunks are
 * re-hashed as they are converted). A big table loads without its indexes (deferred-indexes.ts);
 * in the background, while the next table loads, its indexes are built and the table is re-hashed
 * on the target: the target's own row text MUST match the manifest, or the restore fails.
 * Returns the verified contents in a single pass.
 */
export async function loadArchive(
  file: string,
  storage: Storage | undefined,
  specs: Map<string, TableSpec>,
  manifest: Manifest | undefined,
  opts: LoadOptions,
  single?: SinglePass,
): Promise<ArchiveContents | undefined> {
  const progress = opts.progress ?? silentProgress;
  const checker = single?.checker;
  const expected = new Map(manifest?.tables.map((t) => [t.name, { rows: t.rows, sha256: t.sha256 }]));
  const rowsOf = (table: string) =>
    manifest ? (expected.get(table)?.rows ?? 0) : (single?.rowCounts[table] ?? 0);
  const totalRows = manifest
    ? manifest.totals.rows
    : Object.values(single?.rowCounts ?? {}).reduce((a, b) => a + b, 0);
  /** Row text digests where they differ from the manifest's (format 1 archives). */
  const targetDigests = new Map<string, string>();
  // the verify pass checked archive.sha256 and every digest; what counts now is the target's (a
  // single pass checks them here)
  const reader = new ArchiveReader(file, { checksum: !!checker });
  const failures: string[] = [];
  // Two lanes of index builds and checks behind the load, so a big table's check does not hold
  // up the next table's (the load itself is one stream: the archive is read in order).
  const lanes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  let lane = 0;
  const settled = () => Promise.all(lanes.map((l) => l.catch(() => {})));
  const verify = (spec: TableSpec, want: { rows: number; sha256: string }, deferred = false) => {
    const i = lane++ % lanes.length;
    lanes[i] = lanes[i]!.then(async () => {
      if (deferred) await buildIndexes(storage!, spec);
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
  const fileHashes = new Map(manifest?.files.map((m) => [`${m.folder}/${m.path}`, m.sha256]));
  /** Files written under temporary names, renamed once the single pass has checked everything. */
  const pendingFiles: { tmp: string; target: string }[] = [];
  const next = async () => {
    state.entry = await reader.next();
    if (state.entry) checker?.entry(state.entry.name);
  };
  try {
    await next();
    while (state.entry) {
      const name = state.entry.name;
      const table = tableOfEntry(name);
      if (table && opts.database && storage) {
        const spec = specs.get(table);
        if (!spec)
          throw new RuntimeFailure(`The archive holds table ${table}, unknown at its schema version.`, {
            code: 'ARCHIVE_TABLE_UNKNOWN',
          });
        // Format 1 chunks are JSON lines: converted to row text, whose digest the target must match;
        // their own digest is checked again here (the file could have changed since the verify
        // pass). Format 2 chunks go to the loader as they are: a change since the verify pass
        // shows in the target's digest, which must match the manifest.
        const legacy = state.entry.name.endsWith('.ndjson')
          ? { archived: createHash('sha256'), converted: new RowTextHasher() }
          : undefined;
        const report = (rows: number) => {
          loaded += rows;
          progress.update({
            step: 'Load',
            done: loaded,
            total: totalRows,
            unit: 'rows',
            message: `(${table})`,
          });
        };
        async function* text(): AsyncGenerator<Buffer> {
          while (state.entry && tableOfEntry(state.entry.name) === table) {
            if (legacy) {
              const body = await reader.readBody();
              legacy.archived.update(body);
              const converted = legacyLinesToRowText(spec!, body);
              legacy.converted.add(converted);
              yield converted;
            } else if (checker && (table === 'instance_metadata' || state.entry.size === 0)) {
              const body = await reader.readBody();
              const rows = checker.tableChunk(state.entry.name, body);
              yield body;
              report(rows);
            } else if (checker) {
              // the pieces as the inflater gave them: joining each chunk into one buffer first
              // copied every table byte once more (0.2 to 0.3 CPU-s and 12 MB at bench scale 1)
              const entryName = state.entry.name;
              let first = true;
              for await (const piece of reader.bodyChunks()) {
                const rows = checker.tableChunk(entryName, piece, first);
                first = false;
                yield piece;
                report(rows);
              }
            } else yield* reader.bodyChunks();
            await next();
          }
        }
        const deferred = rowsOf(table) >= deferIndexesFromRows();
        if (deferred) await dropIndexes(storage, spec);
        await bulkLoadText(storage, spec, wholeLines(text(), table), {
          // the target's check reads it back in natural order (restore-target.ts); the restore
          // marker in instance_metadata must stay
          replace: table !== 'instance_metadata',
          // a single pass counts rows as it checks them (text() reports); otherwise the loader does
          onProgress: checker ? undefined : report,
        });
        if (legacy) {
          const digest = legacy.archived.digest('hex');
          if (digest !== expected.get(table)?.sha256) {
            throw new RuntimeFailure(
              `The archive's table ${table} changed since it was verified (sha256 ${digest}).`,
              { code: 'ARCHIVE_CHANGED' },
            );
          }
          targetDigests.set(table, legacy.converted.digest());
        }
        loadedTables.add(table);
        // a single pass checks the target against what went in, and that against the manifest
        verify(spec, checker ? checker.tableDigest(table) : expected.get(table)!, deferred);
        continue;
      }
      const f = fileOfEntry(name);
      const dest = f && opts.fileDestinations?.get(f.folder);
      if (f && checker) {
        const r = await receiveFile(reader, dest ? safeJoin(dest, f.path) : undefined);
        checker.fileEntry(name, state.entry.size, r.sha256);
        if (r.pending) pendingFiles.push(r.pending);
      } else if (f && dest) {
        await restoreFile(reader, safeJoin(dest, f.path), fileHashes.get(`${f.folder}/${f.path}`), f);
      } else if (checker && !f && !table) await checker.otherEntry(reader, name);
      await next();
    }
    if (checker) await reader.finish();
  } catch (err) {
    // nothing may still be building on the target while the caller puts the restore point back
    await settled();
    removePending(pendingFiles);
    // in a single pass, garbage from a damaged archive can reach the loader before the inflater
    // notices (gzip checks its CRC at the end): the damage is the cause to report
    if (checker && !(err instanceof ArchiveDamagedError)) await throwIfDamaged(reader);
    throw err;
  } finally {
    reader.close();
  }
  let contents: ArchiveContents | undefined;
  try {
    if (checker) {
      contents = checker.result(reader.compressedBytesRead);
      if (contents.problems.length) throw failsVerification(file, contents.problems);
    }
    const tables = (manifest ?? contents?.manifest)?.tables ?? [];
    if (opts.database && storage) {
      for (const t of tables) if (!loadedTables.has(t.name) && t.rows === 0) verify(specs.get(t.name)!, t);
      progress.update({ step: 'Load', done: loaded, total: totalRows, unit: 'rows', state: 'done' });
      await Promise.all(lanes);
      // an earlier restore may have died between dropping a table's indexes and building them
      await buildMissingIndexes(storage, [...specs.values()]);
      if (failures.length) {
        throw new RuntimeFailure('The restored tables do not match the archive.', {
          code: 'RESTORE_VERIFY_FAILED',
          details: failures,
        });
      }
    }
  } catch (err) {
    await settled();
    removePending(pendingFiles);
    throw err;
  }
  for (const p of pendingFiles) fs.renameSync(p.tmp, p.target);
  return contents;
}

/** Reads the rest of the archive; throws the ArchiveDamagedError it meets, if any. */
async function throwIfDamaged(reader: ArchiveReader): Promise<void> {
  try {
    while (await reader.next()) {}
    await reader.finish();
  } catch (e) {
    if (e instanceof ArchiveDamagedError) throw e;
  }
}

/** A file entry of a single pass: hashed, and written under a temporary name when it has a destination. */
async function receiveFile(
  reader: ArchiveReader,
  target: string | undefined,
): Promise<{ sha256: string; pending?: { tmp: string; target: string } }> {
  const hash = createHash('sha256');
  if (!target) {
    for await (const piece of reader.bodyChunks()) hash.update(piece);
    return { sha256: hash.digest('hex') };
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.restoring-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o640);
  try {
    for await (const piece of reader.bodyChunks()) {
      hash.update(piece);
      fs.writeSync(fd, piece);
    }
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return { sha256: hash.digest('hex'), pending: { tmp, target } };
}

function removePending(files: { tmp: string }[]): void {
  for (const f of files) fs.rmSync(f.tmp, { force: true });
}

async function restoreFile(
  reader: ArchiveReader,
  target: string,
  want: string | undefined,
  f: { folder: string; path: string },
): Promise<void> {
  const r = await receiveFile(reader, target);
  const tmp = r.pending!.tmp;
  if (r.sha256 !== want) {
    fs.rmSync(tmp, { force: true });
    throw new RuntimeFailure(`The archive's file ${f.folder}/${f.path} changed since it was verified.`, {
      code: 'ARCHIVE_CHANGED',
    });
  }
  fs.renameSync(tmp, target);
}
