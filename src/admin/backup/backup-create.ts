import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Kysely } from 'kysely';
import type { InstanceConfig } from '../../config/instance-config.js';
import { sealKeyBundle } from '../../crypto/key-bundle.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError } from '../../lib/errors.js';
import { requireWritableFile } from '../../lib/path-checks.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { CUTTLE_VERSION } from '../../lib/version.js';
import { schemaStatus } from '../../storage/migrator.js';
import { getMeta, META } from '../../storage/repositories/metadata-repository.js';
import { lineReader, RowTextHasher, splitLines } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import type { Database } from '../../storage/schema/database-types.js';
import { TABLES } from '../../storage/schema/tables.js';
import { withSnapshot } from '../../storage/snapshot.js';
import type { Storage } from '../../storage/storage.js';
import { countRows } from '../../storage/table-counts.js';
import { readTableText } from '../../storage/table-reader.js';
import {
  ARCHIVE_FORMAT,
  type ArchiveHeader,
  type BlobEntry,
  CHUNK_BYTES,
  ENTRY,
  type FileEntry,
  fileEntryName,
  type Manifest,
  type PortableConfig,
  type TableEntry,
  tableChunkName,
} from './archive-format.js';
import { ArchiveWriter } from './archive-writer.js';
import { listDataFiles } from './backup-files.js';
import { incompleteRestoreError, readRestoreMarker } from './restore-marker.js';

export interface BackupInput {
  storage: Storage;
  output: string;
  instanceName: string;
  /** The instance config: source of the files and of config.json. Absent for a bare database. */
  config?: InstanceConfig;
  /** With a passphrase, the key is sealed into key-bundle.json. */
  key?: MasterKey;
  passphrase?: string;
  database?: boolean;
  files?: boolean;
  progress?: ProgressReporter;
}

export interface BackupResult {
  file: string;
  bytes: number;
  sha256: string;
  manifest: Manifest;
}

/**
 * Writes one backup archive (archive-format.ts). The tables are read inside one snapshot
 * (snapshot.ts), so the archive is one instant of the database however long it takes, while the
 * server keeps running. Files are captured after the snapshot: an artifact row is written after
 * its file, so every artifact row in the snapshot has its file on disk by then.
 */
export async function writeBackup(input: BackupInput): Promise<BackupResult> {
  const started = Date.now();
  const progress = input.progress ?? silentProgress;
  const withDatabase = input.database ?? true;
  const withFiles = (input.files ?? true) && !!input.config;
  if (input.passphrase && !input.key) throw new Error('a passphrase needs the key to seal');
  // before the snapshot: an --output that is a folder was refused only after the whole backup
  requireWritableFile(input.output, 'The backup archive');
  const status = await schemaStatus(input.storage);
  if (status.state !== 'current') {
    throw new PreconditionError(
      `The database at ${input.storage.description} has schema state "${status.state}" (version ${status.version}); a backup needs the current schema (${status.latest}).`,
      {
        code: 'SCHEMA_OUTDATED',
        hints: status.state === 'older' ? ['Run `cuttle database upgrade` first.'] : [],
      },
    );
  }
  const writer = await ArchiveWriter.create(input.output);
  try {
    const instanceId = (await getMeta(input.storage.db, META.instanceId)) ?? null;
    const created = new Date().toISOString();
    const header: ArchiveHeader = {
      format: ARCHIVE_FORMAT,
      cuttleVersion: CUTTLE_VERSION,
      schemaVersion: status.version,
      created,
      instanceId,
      keyFirst: true,
      contents: { database: withDatabase, files: withFiles, keyBundle: !!input.passphrase },
    };
    // the header, key bundle and config come first (ArchiveHeader.keyFirst); with the database,
    // once the snapshot has counted the rows the header carries
    const entries: BlobEntry[] = [];
    const writeHead = async (rowCounts?: Record<string, number>) => {
      await writer.addEntry(ENTRY.header, json(rowCounts ? { ...header, rowCounts } : header));
      entries.push(...(await writeKeyAndConfig(input, writer)));
    };

    const tables: TableEntry[] = [];
    const artifactPaths = new Set<string>();
    if (withDatabase) {
      await withSnapshot(input.storage, async (db) => {
        const marker = await readRestoreMarker(db);
        if (marker) throw incompleteRestoreError(marker, input.storage.description);
        const counts = await countAllRows(db);
        await writeHead(Object.fromEntries(counts));
        tables.push(...(await writeTables(db, writer, progress, artifactPaths, counts)));
      });
    } else await writeHead();

    const files: FileEntry[] = [];
    if (withFiles) files.push(...(await writeFiles(input.config!, writer, progress)));
    const present = new Set(files.filter((f) => f.folder === 'artifacts').map((f) => f.path));
    const missingArtifacts = withFiles ? [...artifactPaths].filter((p) => !present.has(p)).sort() : [];
    for (const p of missingArtifacts.slice(0, 20))
      progress.note(`Warning: artifact file missing from the home: ${p}`);

    const manifest: Manifest = {
      ...header,
      instanceName: input.instanceName,
      source: {
        engine: input.storage.engine,
        label: input.storage.dialect.label,
        serverVersion: input.storage.dialect.serverVersion,
      },
      contents: { database: withDatabase, files: withFiles, keyBundle: !!input.passphrase },
      secrets: [
        input.passphrase
          ? 'master key: sealed in key-bundle.json with a key derived from the passphrase (scrypt, AES-256-GCM)'
          : 'master key: NOT included; a restore needs --master-key-file (keep the key apart from the backups)',
        'database password: not included (config.json holds no connection string; a restore seals the new one)',
        'sensitive values: kept as AES-256-GCM envelopes under the master key, as in the database',
      ],
      tables,
      files,
      entries,
      missingArtifacts,
      totals: {
        rows: tables.reduce((a, t) => a + t.rows, 0),
        tableBytes: tables.reduce((a, t) => a + t.bytes, 0),
        files: files.length,
        fileBytes: files.reduce((a, f) => a + f.size, 0),
      },
      durationMs: Date.now() - started,
    };
    await writer.addEntry(ENTRY.manifest, json(manifest));
    const done = await writer.finish();
    return { ...done, manifest };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

async function writeKeyAndConfig(input: BackupInput, writer: ArchiveWriter): Promise<BlobEntry[]> {
  const entries: BlobEntry[] = [];
  if (input.passphrase && input.key) {
    const bundle = json(await sealKeyBundle(input.key, input.passphrase));
    await writer.addEntry(ENTRY.keyBundle, bundle);
    entries.push({ name: ENTRY.keyBundle, size: bundle.length, sha256: sha256(bundle) });
  }
  if (input.config) {
    const portable: PortableConfig = {
      instanceName: input.config.instanceName,
      listen: input.config.listen,
      taskCap: input.config.taskCap,
      paths: input.config.paths,
      storageEngine: input.storage.engine,
      sourceNodeName: input.config.nodeName,
    };
    const body = json(portable);
    await writer.addEntry(ENTRY.config, body);
    entries.push({ name: ENTRY.config, size: body.length, sha256: sha256(body) });
  }
  return entries;
}

async function countAllRows(db: Kysely<Database>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const t of TABLES) counts.set(t.name, await countRows(db, t.name));
  return counts;
}

async function writeTables(
  db: Kysely<Database>,
  writer: ArchiveWriter,
  progress: ProgressReporter,
  artifactPaths: Set<string>,
  counts: Map<string, number>,
): Promise<TableEntry[]> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  // instance_metadata first: it holds the master-key canary, which a restore checks before it
  // loads anything (ArchiveHeader.keyFirst). Then the largest tables: a restore loads in archive
  // order and builds and checks each table while the next one loads, so small tables last leave
  // almost nothing to wait for at the end.
  const rank = (t: TableSpec) =>
    t.name === 'instance_metadata' ? Number.POSITIVE_INFINITY : counts.get(t.name)!;
  const order = [...TABLES].sort((a, b) => rank(b) - rank(a));
  const out: TableEntry[] = [];
  let done = 0;
  for (const table of order) {
    // Row text goes to the archive as the engine sent it (on PostgreSQL the COPY bytes themselves),
    // hashed in whole pieces: no JavaScript per row.
    const hash = new RowTextHasher();
    let chunks = 0;
    let parts: Buffer[] = [];
    let pending = 0;
    const flush = async () => {
      if (!parts.length) return;
      const pieces = parts;
      const size = pending;
      parts = [];
      pending = 0;
      await writer.addStreamEntry(tableChunkName(table.name, ++chunks), size, pieces);
    };
    const artifactPath = table.name === 'artifacts' ? artifactPathOf(table) : undefined;
    for await (const piece of prefetch(readTableText(db, table))) {
      const rows = hash.add(piece);
      parts.push(piece);
      pending += piece.length;
      if (artifactPath) for (const line of splitLines(piece)) artifactPaths.add(artifactPath(line));
      done += rows;
      if (pending >= CHUNK_BYTES) await flush();
      progress.update({
        step: 'Database',
        done,
        total,
        unit: 'rows',
        message: `(${table.name}; ${mb(writer.compressedBytes)} written)`,
      });
    }
    await flush();
    out.push({
      name: table.name,
      columns: table.columns,
      primaryKey: table.primaryKey,
      rows: hash.rows,
      bytes: hash.bytes,
      chunks,
      sha256: hash.digest(),
    });
  }
  progress.update({ step: 'Database', done, total, unit: 'rows', state: 'done' });
  return out;
}

/** The relative_path of an artifacts row text line. */
function artifactPathOf(table: TableSpec): (line: string) => string {
  const read = lineReader(table);
  const i = table.columns.findIndex((c) => c.name === 'relative_path');
  return (line) => String(read(line)[i]);
}

async function writeFiles(
  config: InstanceConfig,
  writer: ArchiveWriter,
  progress: ProgressReporter,
): Promise<FileEntry[]> {
  const files = listDataFiles(config);
  const total = files.reduce((a, f) => a + f.size, 0);
  let done = 0;
  const out: FileEntry[] = [];
  for (const f of files) {
    const hash = createHash('sha256');
    async function* content() {
      if (f.size === 0) return;
      for await (const piece of fs.createReadStream(f.absolute, {
        end: f.size - 1,
        highWaterMark: 1 << 20,
      })) {
        hash.update(piece as Buffer);
        done += (piece as Buffer).length;
        yield piece as Buffer;
      }
    }
    await writer.addStreamEntry(fileEntryName(f.folder, f.path), f.size, content());
    out.push({ folder: f.folder, path: f.path, size: f.size, sha256: hash.digest('hex') });
    progress.update({
      step: 'Files',
      done,
      total,
      unit: 'bytes',
      message: `(${out.length} of ${files.length} files)`,
    });
  }
  progress.update({ step: 'Files', done, total, unit: 'bytes', state: 'done' });
  return out;
}

/**
 * Asks for the next batch before the current one is encoded and compressed, so the database works
 * on the next page while this process works on this one (the main thread was idle ~45% without it).
 */
async function* prefetch<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      next.catch(() => {});
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

function json(v: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(v, null, 1)}\n`, 'utf8');
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}
