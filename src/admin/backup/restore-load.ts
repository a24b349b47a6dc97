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
import { CodecError } from '../../storage/codecs.js';

import { RowTextHasher, wholeLines } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Storage } from '../../storage/storage.js';
import { fileOfEntry, type Manifest, tableOfEntry } from './archive-format.js';
import { legacyLinesToRowText } from './archive-format-1.js';
import { archiveNotPortable, refusedBy } from './archive-portable-scan.js';
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

export interface LoadArchiveInput extends LoadOptions {
  file: string;
  /** The target; undefined restores files only. */
  storage: Storage | undefined;
  /** The tables of the archive's schema version, by name. */
  specs: Map<string, TableSpec>;
  /** The verified manifest; undefined in a single pass (its checker reads it at the end). */
  manifest: Manifest | undefined;
  single?: SinglePass;
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
export async function loadArchive(input: LoadArchiveInput): Promise<ArchiveContents | undefined> {
  const load = new ArchiveLoad(input);
  await load.readEntries();
  return load.finish();
}

/** Digests a loaded table must have on the target. */
interface Expected {
  rows: number;
  sha256: string;
}

class ArchiveLoad {
  private readonly progress: ProgressReporter;
  private readonly checker: ArchiveChecker | undefined;
  private readonly expected: Map<string, Expected>;
  private readonly totalRows: number;
  /** Row text digests where they differ from the manifest's (format 1 archives). */
  private readonly targetDigests = new Map<string, string>();
  private readonly reader: ArchiveReader;
  private readonly failures: string[] = [];
  // Two lanes of index builds and checks behind the load, so a big table's check does not hold
  // up the next table's (the load itself is one stream: the archive is read in order).
  private readonly lanes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  private lane = 0;
  private entry: ArchiveEntryHeader | null = null;
  private loaded = 0;
  private readonly loadedTables = new Set<string>();
  private readonly fileHashes: Map<string, string>;
  /** Files written under temporary names, renamed once the single pass has checked everything. */
  private readonly pendingFiles: { tmp: string; target: string }[] = [];

  constructor(private readonly input: LoadArchiveInput) {
    const { manifest, single } = input;
    this.progress = input.progress ?? silentProgress;
    this.checker = single?.checker;
    this.expected = new Map(manifest?.tables.map((t) => [t.name, { rows: t.rows, sha256: t.sha256 }]));
    this.totalRows = manifest
      ? manifest.totals.rows
      : Object.values(single?.rowCounts ?? {}).reduce((x, y) => x + y, 0);
    this.fileHashes = new Map(manifest?.files.map((m) => [`${m.folder}/${m.path}`, m.sha256]));
    // the verify pass checked archive.sha256 and every digest; what counts now is the target's (a
    // single pass checks them here)
    this.reader = new ArchiveReader(input.file, { checksum: !!this.checker });
  }

  /** Every entry in archive order: tables into the bulk loader, files to their folders. */
  async readEntries(): Promise<void> {
    const { input, checker, reader } = this;
    try {
      await this.next();
      while (this.entry) {
        const table = tableOfEntry(this.entry.name);
        if (table && input.database && input.storage) await this.loadTable(table, input.storage);
        else {
          await this.otherEntry(this.entry);
          await this.next();
        }
      }
      if (checker) await reader.finish();
    } catch (err) {
      // nothing may still be building on the target while the caller puts the restore point back
      await this.settled();
      removePending(this.pendingFiles);
      // in a single pass, garbage from a damaged archive can reach the loader before the inflater
      // notices (gzip checks its CRC at the end): the damage is the cause to report
      if (checker && !(err instanceof ArchiveDamagedError)) await throwIfDamaged(reader);
      throw err;
    } finally {
      reader.close();
    }
  }

  /** After the last entry: the single pass's verdict, the background checks, the files renamed. */
  async finish(): Promise<ArchiveContents | undefined> {
    const { input, checker } = this;
    let contents: ArchiveContents | undefined;
    try {
      if (checker) {
        contents = checker.result(this.reader.compressedBytesRead);
        if (contents.problems.length) throw failsVerification(input.file, contents.problems);
      }
      const tables = (input.manifest ?? contents?.manifest)?.tables ?? [];
      if (input.database && input.storage) {
        for (const t of tables)
          if (!this.loadedTables.has(t.name) && t.rows === 0) this.verify(input.specs.get(t.name)!, t);
        this.progress.update({
          step: 'Load',
          done: this.loaded,
          total: this.totalRows,
          unit: 'rows',
          state: 'done',
        });
        await Promise.all(this.lanes);
        // an earlier restore may have died between dropping a table's indexes and building them
        await buildMissingIndexes(input.storage, [...input.specs.values()]);
        if (this.failures.length) {
          throw new RuntimeFailure('The restored tables do not match the archive.', {
            code: 'RESTORE_VERIFY_FAILED',
            details: this.failures,
          });
        }
      }
    } catch (err) {
      await this.settled();
      removePending(this.pendingFiles);
      throw err;
    }
    for (const p of this.pendingFiles) fs.renameSync(p.tmp, p.target);
    return contents;
  }

  private async next(): Promise<void> {
    this.entry = await this.reader.next();
    if (this.entry) this.checker?.entry(this.entry.name);
  }

  private rowsOf(table: string): number {
    return this.input.manifest
      ? (this.expected.get(table)?.rows ?? 0)
      : (this.input.single?.rowCounts[table] ?? 0);
  }

  private settled() {
    return Promise.all(this.lanes.map((l) => l.catch(() => {})));
  }

  /** Queues the target-side check of a loaded table (after its deferred index build). */
  private verify(spec: TableSpec, want: Expected, deferred = false): void {
    const storage = this.input.storage!;
    const i = this.lane++ % this.lanes.length;
    this.lanes[i] = this.lanes[i]!.then(async () => {
      if (deferred) await buildIndexes(storage, spec);
      const sha256 = this.targetDigests.get(spec.name) ?? want.sha256;
      const got = await checkRestoredTable(storage, spec, { rows: want.rows, sha256 });
      if (!got.matches) {
        this.failures.push(
          `table ${spec.name} on the target: ${got.rows} rows, sha256 ${got.sha256}; the archive has ${want.rows} rows, sha256 ${sha256}`,
        );
      }
    });
    this.lanes[i]!.catch(() => {});
  }

  /** All chunks of one table, from the current entry on, into the bulk loader. */
  private async loadTable(table: string, storage: Storage): Promise<void> {
    const spec = this.input.specs.get(table);
    if (!spec)
      throw new RuntimeFailure(`The archive holds table ${table}, unknown at its schema version.`, {
        code: 'ARCHIVE_TABLE_UNKNOWN',
      });
    // Format 1 chunks are JSON lines: converted to row text, whose digest the target must match;
    // their own digest is checked again here (the file could have changed since the verify
    // pass). Format 2 chunks go to the loader as they are: a change since the verify pass
    // shows in the target's digest, which must match the manifest.
    const legacy = this.entry!.name.endsWith('.ndjson')
      ? { archived: createHash('sha256'), converted: new RowTextHasher() }
      : undefined;
    const deferred = this.rowsOf(table) >= deferIndexesFromRows();
    if (deferred) await dropIndexes(storage, spec);
    await bulkLoadText(storage, spec, wholeLines(this.chunks(table, spec, legacy), table), {
      // the target's check reads it back in natural order (restore-target.ts); the restore
      // marker in instance_metadata must stay
      replace: table !== 'instance_metadata',
      // a single pass counts rows as it checks them (chunks() reports); otherwise the loader does
      onProgress: this.checker ? undefined : (rows) => this.report(table, rows),
    });
    if (legacy) {
      const digest = legacy.archived.digest('hex');
      if (digest !== this.expected.get(table)?.sha256) {
        throw new RuntimeFailure(
          `The archive's table ${table} changed since it was verified (sha256 ${digest}).`,
          {
            code: 'ARCHIVE_CHANGED',
          },
        );
      }
      this.targetDigests.set(table, legacy.converted.digest());
    }
    this.loadedTables.add(table);
    // a single pass checks the target against what went in, and that against the manifest
    this.verify(spec, this.checker ? this.checker.tableDigest(table) : this.expected.get(table)!, deferred);
  }

  private report(table: string, rows: number): void {
    this.loaded += rows;
    this.progress.update({
      step: 'Load',
      done: this.loaded,
      total: this.totalRows,
      unit: 'rows',
      message: `(${table})`,
    });
  }

  /** The current entry's body in pieces of whole rows; one that ends inside a row is damage. */
  private async *rowPieces(table: string): AsyncGenerator<Buffer> {
    try {
      yield* wholeLines(this.reader.bodyChunks(), `table ${table}`);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new ArchiveDamagedError(
        `The backup archive ${this.input.file} is damaged: table ${table} ends inside a row.`,
        {
          hints: ['Use another copy of the backup; this one cannot be restored.'],
        },
      );
    }
  }

  /** A value the target would refuse stops the single pass before it loads (the caller empties the target). */
  private refuseWhatTargetCannotHold(checker: ArchiveChecker): void {
    const caps = this.input.storage?.capabilities;
    if (!caps || !checker.nonPortable.length) return;
    const refused = refusedBy(checker.nonPortable, caps);
    if (refused.length) throw archiveNotPortable(this.input.file, refused, caps.displayName);
  }

  /** The bytes of a table's entries, fed to the checker in a single pass, until the next table's. */
  private async *chunks(
    table: string,
    spec: TableSpec,
    legacy: { archived: ReturnType<typeof createHash>; converted: RowTextHasher } | undefined,
  ): AsyncGenerator<Buffer> {
    const { reader, checker } = this;
    while (this.entry && tableOfEntry(this.entry.name) === table) {
      const entry = this.entry;
      if (legacy) {
        const body = await reader.readBody();
        legacy.archived.update(body);
        const converted = legacyLinesToRowText(spec, body);
        legacy.converted.add(converted);
        yield converted;
      } else if (checker && (table === 'instance_metadata' || entry.size === 0)) {
        const body = await reader.readBody();
        const rows = checker.tableChunk(entry.name, body);
        this.refuseWhatTargetCannotHold(checker);
        yield body;
        this.report(table, rows);
      } else if (checker) {
        // the pieces as the inflater gives them: a chunk is never joined into one buffer first
        // re-cut at line ends, so that a row is checked (portable values) before any of it loads
        let first = true;
        for await (const piece of this.rowPieces(table)) {
          const rows = checker.tableChunk(entry.name, piece, first);
          first = false;
          this.refuseWhatTargetCannotHold(checker);
          yield piece;
          this.report(table, rows);
        }
      } else yield* reader.bodyChunks();
      await this.next();
    }
  }

  /** A file (to its folder, checked against the manifest or by the single pass) or another entry. */
  private async otherEntry(entry: ArchiveEntryHeader): Promise<void> {
    const { reader, checker, input } = this;
    const name = entry.name;
    const f = fileOfEntry(name);
    const dest = f && input.fileDestinations?.get(f.folder);
    if (f && checker) {
      const r = await receiveFile(reader, dest ? safeJoin(dest, f.path) : undefined);
      checker.fileEntry(name, entry.size, r.sha256);
      if (r.pending) this.pendingFiles.push(r.pending);
    } else if (f && dest) {
      await restoreFile(reader, safeJoin(dest, f.path), this.fileHashes.get(`${f.folder}/${f.path}`), f);
    } else if (checker && !f && !tableOfEntry(name)) await checker.otherEntry(reader, name);
  }
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
