import type { ColumnSpec } from '../../storage/schema/column-types.js';

/**
 * The backup archive: a POSIX tar stream (pax headers for long names and sizes) compressed with
 * zstd (`.tar.zst`) or gzip (`.tar.gz`; archive-compression.ts), so `tar tvf FILE` lists it and
 * `tar xf` unpacks it without Cuttle (GNU tar recognizes both). Entries, in order:
 *
 *   cuttle-backup.json            header: format, Cuttle and schema version (read first, so a
 *                                 restore refuses an archive from a newer schema before loading),
 *                                 contents and row counts
 *   key-bundle.json               the master key sealed with the passphrase (only with one)
 *   config.json                   the instance settings that travel (no paths of this machine,
 *                                 no secret: the sealed database password is left out)
 *   tables/<name>/<000001>.tsv    row text (row-text.ts), in primary-key order, cut at line
 *                                 boundaries into chunks of about CHUNK_BYTES so that neither the
 *                                 writer nor the reader holds more than one chunk; the table's
 *                                 SHA-256 in the manifest is over the concatenated chunk bytes,
 *                                 which are exactly the lines `hashTable` digests on any engine
 *                                 (instance_metadata first, with the master-key canary, then
 *                                 the largest tables first)
 *   files/<folder>/<relpath>      artifacts and packages, byte for byte
 *   manifest.json                 everything above with counts, sizes and SHA-256s
 *   archive.sha256                SHA-256 of every tar byte before this entry except the content
 *                                 of `.tsv` table chunks (the manifest's table digests, which it
 *                                 covers, cover those): a whole-archive check of entry names,
 *                                 order, files and the manifest itself
 *
 * gzip adds its own CRC-32 and zstd an XXH64 of the content (`--check`), so a flipped byte in the
 * compressed file is caught by the decompressor and one inside an entry's content by its hash.
 *
 * Archives of Cuttle 0.2.0 have key-bundle.json and config.json after the files and no `keyFirst`
 * in the header; readers take the entries in any order.
 *
 * Format 1 (Cuttle 0.1.0) differs only in its table chunks: `<000001>.ndjson`, one JSON array of
 * canonical values per line (archive-format-1.ts). Archives of both formats verify and restore.
 */
export const ARCHIVE_FORMAT = 'cuttle-backup/2';
const LEGACY_ARCHIVE_FORMAT = 'cuttle-backup/1';
export type ArchiveFormat = typeof ARCHIVE_FORMAT | typeof LEGACY_ARCHIVE_FORMAT;
export const READABLE_FORMATS: readonly string[] = [ARCHIVE_FORMAT, LEGACY_ARCHIVE_FORMAT];
export const CHUNK_BYTES = 4 * 1024 * 1024;

export const ENTRY = {
  header: 'cuttle-backup.json',
  keyBundle: 'key-bundle.json',
  config: 'config.json',
  manifest: 'manifest.json',
  checksum: 'archive.sha256',
} as const;

export function tableChunkName(table: string, n: number): string {
  return `tables/${table}/${String(n).padStart(6, '0')}.tsv`;
}

/** Whether archive.sha256 covers an entry's content (all but format 2 table chunks). */
export function contentInChecksum(name: string): boolean {
  return !(name.startsWith('tables/') && name.endsWith('.tsv'));
}

/** The table a chunk entry belongs to (either format), or undefined for any other entry. */
export function tableOfEntry(name: string): string | undefined {
  const m = /^tables\/([a-z0-9_]+)\/\d{6}\.(?:tsv|ndjson)$/.exec(name);
  return m?.[1];
}

export function fileEntryName(folder: string, relPath: string): string {
  return `files/${folder}/${relPath}`;
}

export function fileOfEntry(name: string): { folder: string; path: string } | undefined {
  const m = /^files\/([a-z]+)\/(.+)$/.exec(name);
  return m ? { folder: m[1]!, path: m[2]! } : undefined;
}

export interface ArchiveHeader {
  format: ArchiveFormat;
  cuttleVersion: string;
  schemaVersion: number;
  created: string;
  instanceId: string | null;
  /**
   * From Cuttle 0.3.0: key-bundle.json and config.json follow the header, and instance_metadata
   * (which holds the master-key canary) is the first table. A restore can then prove the key and
   * plan the load from the first few kilobytes, and load in the same pass that verifies
   * (backup-restore.ts). Archives without it keep those entries at the end.
   */
  keyFirst?: boolean;
  contents?: { database: boolean; files: boolean; keyBundle: boolean };
  /** Row counts of the tables as the snapshot had them, for planning the load (keyFirst archives). */
  rowCounts?: Record<string, number>;
}

export interface TableEntry {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  rows: number;
  bytes: number;
  chunks: number;
  sha256: string;
}

export interface FileEntry {
  folder: string;
  path: string;
  size: number;
  sha256: string;
}

export interface BlobEntry {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest extends ArchiveHeader {
  instanceName: string;
  source: { engine: string; label: string; serverVersion: string };
  contents: { database: boolean; files: boolean; keyBundle: boolean };
  /** What the archive deliberately leaves out or seals, in words. */
  secrets: string[];
  tables: TableEntry[];
  files: FileEntry[];
  /** key-bundle.json and config.json. */
  entries: BlobEntry[];
  /** Artifact rows whose file was missing from the home when the backup ran (already lost). */
  missingArtifacts: string[];
  totals: { rows: number; tableBytes: number; files: number; fileBytes: number };
  durationMs: number;
}

/**
 * What a restore needs from config.json; machine-specific values (home, node name, storage) are
 * not applied from it (the source's node name is only recorded, to retire that node).
 */
export interface PortableConfig {
  instanceName: string;
  listen: string;
  taskCap: number;
  paths: { artifacts: string; packages: string; backups: string };
  storageEngine: string;
  /**
   * The node name of the instance the archive was made on: a restore with --no-database (a move
   * of the server) retires that node, so no ghost stays. Absent in archives of older versions.
   */
  sourceNodeName?: string;
}
