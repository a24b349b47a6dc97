import { createHash, type Hash } from 'node:crypto';
import type { KeyBundle } from '../../crypto/key-bundle.js';
import { PreconditionError } from '../../lib/errors.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { LATEST_SCHEMA_VERSION } from '../../storage/migrator.js';
import { countLines, NULL_FIELD, splitLines, unescapeText } from '../../storage/row-text.js';
import { TABLES } from '../../storage/schema/tables.js';
import {
  type ArchiveHeader,
  ENTRY,
  fileOfEntry,
  type Manifest,
  type PortableConfig,
  READABLE_FORMATS,
  tableOfEntry,
} from './archive-format.js';
import { legacyPairs } from './archive-format-1.js';
import { type NonPortableArchiveValue, PortableScan } from './archive-portable-scan.js';
import { ArchiveDamagedError, ArchiveReader } from './archive-reader.js';
import { sha256 } from './backup-create.js';

export interface CheckLine {
  /** "table events", "file artifacts/a.zip", "key-bundle.json", "archive" */
  entry: string;
  expected: string;
  found: string;
  ok: boolean;
}

export interface ArchiveContents {
  file: string;
  header: ArchiveHeader;
  manifest: Manifest;
  keyBundle?: KeyBundle;
  config?: PortableConfig;
  /** instance_metadata rows by key (a small table; holds the master-key canary). */
  metadata: Map<string, string>;
  checks: CheckLine[];
  problems: string[];
  /** Old values outside the portable domain (not damage: some engines cannot take them). */
  nonPortable: NonPortableArchiveValue[];
  compressedBytes: number;
}

interface Seen {
  rows: number;
  bytes: number;
  chunks: number;
  hash: Hash;
}

/**
 * Reads a whole archive and checks it against its manifest: every table's rows, bytes and SHA-256,
 * every file's size and SHA-256, the key bundle and config entries, that nothing is missing or extra,
 * and archive.sha256 over all of it. Damage that stops the reading (truncation, corrupt compressed
 * data, a broken tar header) throws ArchiveDamagedError naming the entry; mismatches found after a
 * full read are listed in `problems`.
 */
export async function readAndVerify(
  file: string,
  progress: ProgressReporter = silentProgress,
): Promise<ArchiveContents> {
  const reader = new ArchiveReader(file);
  const checker = new ArchiveChecker(file, progress);
  try {
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      checker.entry(entry.name);
      if (tableOfEntry(entry.name)) {
        checker.tableChunk(entry.name, await reader.readBody());
      } else if (fileOfEntry(entry.name)) {
        const h = createHash('sha256');
        for await (const piece of reader.bodyChunks()) h.update(piece);
        checker.fileEntry(entry.name, entry.size, h.digest('hex'));
      } else await checker.otherEntry(reader, entry.name);
    }
    await reader.finish();
  } finally {
    reader.close();
  }
  return checker.result(reader.compressedBytesRead);
}

/** The refusal of an archive whose entries do not match its manifest: nothing was restored. */
export function failsVerification(file: string, problems: string[]): PreconditionError {
  return new PreconditionError(`The backup archive ${file} fails verification; nothing was restored.`, {
    code: 'ARCHIVE_DAMAGED',
    details: problems,
  });
}

function archiveDamaged(file: string, what: string): ArchiveDamagedError {
  return new ArchiveDamagedError(`The backup archive ${file} is damaged: ${what}.`, {
    hints: ['Use another copy of the backup; this one cannot be restored.'],
  });
}

/**
 * What `readAndVerify` checks, fed one entry at a time by whoever reads the archive: the verify
 * pass, or a single-pass restore (restore-load.ts) that loads the same bytes as it checks them.
 */
export class ArchiveChecker {
  private readonly tables = new Map<string, Seen>();
  private readonly files = new Map<string, { size: number; sha256: string }>();
  private readonly blobs = new Map<string, { size: number; sha256: string; body: Buffer }>();
  readonly metadata = new Map<string, string>();
  private header: ArchiveHeader | undefined;
  private manifest: Manifest | undefined;
  private sum: { stored: string; computed: string } | undefined;
  private readonly problems: string[] = [];
  private first = true;
  private rowsRead = 0;
  /** Set once the header tells the schema (the header is the first entry). */
  private scan: PortableScan | undefined;

  constructor(
    readonly file: string,
    private readonly progress: ProgressReporter = silentProgress,
  ) {}

  private damaged(what: string): ArchiveDamagedError {
    return archiveDamaged(this.file, what);
  }

  /** Every entry's name, in archive order, before its content. */
  entry(name: string): void {
    if (this.first && name !== ENTRY.header) {
      throw this.damaged(`it does not start with ${ENTRY.header} (is it a Cuttle backup archive?)`);
    }
    this.first = false;
    if (this.sum) throw this.damaged(`an entry (${name}) follows ${ENTRY.checksum}`);
  }

  /**
   * A table chunk's bytes, whole or in consecutive pieces (`first` marks a chunk's first piece, so
   * that chunks are counted once); returns how many rows they hold. instance_metadata's chunks
   * come whole: the master-key canary is read from them.
   */
  tableChunk(entryName: string, body: Buffer, first = true): number {
    const table = tableOfEntry(entryName)!;
    let seen = this.tables.get(table);
    if (!seen) {
      seen = { rows: 0, bytes: 0, chunks: 0, hash: createHash('sha256') };
      this.tables.set(table, seen);
    }
    seen.hash.update(body);
    seen.bytes += body.length;
    if (first) seen.chunks++;
    const n = this.scan && !entryName.endsWith('.ndjson') ? this.scan.piece(table, body) : countLines(body);
    seen.rows += n;
    this.rowsRead += n;
    if (table === 'instance_metadata') collectMetadata(entryName, body, this.metadata);
    this.progress.update({ step: 'Verify', done: this.rowsRead, unit: 'rows', message: `(${table})` });
    return n;
  }

  /** Values outside the portable domain seen so far (a single-pass restore refuses them as they come). */
  get nonPortable(): NonPortableArchiveValue[] {
    return this.scan?.found ?? [];
  }

  /** The rows and SHA-256 of a table's chunks so far (a single-pass restore checks the target against them). */
  tableDigest(table: string): { rows: number; sha256: string } {
    const seen = this.tables.get(table);
    return seen
      ? { rows: seen.rows, sha256: seen.hash.copy().digest('hex') }
      : { rows: 0, sha256: sha256(Buffer.alloc(0)) };
  }

  fileEntry(entryName: string, size: number, digest: string): void {
    this.files.set(entryName, { size, sha256: digest });
  }

  /**
   * An entry that is neither a table chunk nor a file, read from `reader` (positioned at it):
   * archive.sha256 against the hash of everything before it, or one of `other`'s.
   */
  async otherEntry(reader: ArchiveReader, name: string): Promise<void> {
    if (name === ENTRY.checksum) {
      const computed = reader.hashBeforeEntry;
      this.sum = { stored: (await reader.readBody()).toString('utf8').trim(), computed };
    } else this.other(name, await reader.readBody());
  }

  /** The header, manifest, key bundle and config entries (anything else is a problem). */
  private other(name: string, body: Buffer): void {
    if (name === ENTRY.header) {
      const header = parseJson<ArchiveHeader>(body, name, (w) => this.damaged(w));
      this.header = header;
      // the columns are known by heart for this schema only (an older one: NULs, by line)
      const current = header.schemaVersion === LATEST_SCHEMA_VERSION;
      this.scan = new PortableScan(new Map(current ? TABLES.map((t) => [t.name, t]) : []));
    } else if (name === ENTRY.manifest) this.manifest = parseJson(body, name, (w) => this.damaged(w));
    else if (name === ENTRY.keyBundle || name === ENTRY.config) {
      this.blobs.set(name, { size: body.length, sha256: sha256(body), body });
    } else this.problems.push(`unexpected entry ${name}`);
  }

  /** Compares what was read with the manifest, after the last entry. */
  result(compressedBytes: number): ArchiveContents {
    const { header, manifest, problems } = this;
    const checksum = this.sum;
    if (!header) throw this.damaged(`${ENTRY.header} is missing`);
    if (!manifest) throw this.damaged(`${ENTRY.manifest} is missing (truncated?)`);
    if (!checksum) throw this.damaged(`${ENTRY.checksum} is missing (truncated?)`);
    if (!READABLE_FORMATS.includes(header.format) || manifest.format !== header.format) {
      throw this.damaged(
        `its format is "${String(manifest.format)}", this Cuttle reads ${READABLE_FORMATS.join(' and ')}`,
      );
    }

    const checks: CheckLine[] = [];
    const check = (entry: string, expected: string, found: string) => {
      const ok = expected === found;
      checks.push({ entry, expected, found, ok });
      if (!ok) problems.push(`${entry}: expected ${expected}, found ${found}`);
    };
    const tables = new Map(this.tables);
    for (const t of manifest.tables) {
      const seen = tables.get(t.name);
      tables.delete(t.name);
      const digest = seen ? seen.hash.digest('hex') : sha256(Buffer.alloc(0));
      check(`table ${t.name} rows`, String(t.rows), String(seen?.rows ?? 0));
      check(`table ${t.name} sha256`, t.sha256, digest);
    }
    for (const name of tables.keys())
      problems.push(`table ${name} is in the archive but not in the manifest`);
    const files = new Map(this.files);
    for (const f of manifest.files) {
      const name = `files/${f.folder}/${f.path}`;
      const seen = files.get(name);
      files.delete(name);
      if (!seen) {
        problems.push(`file ${f.folder}/${f.path} is listed in the manifest but missing from the archive`);
        continue;
      }
      check(`file ${f.folder}/${f.path}`, `${f.size} bytes ${f.sha256}`, `${seen.size} bytes ${seen.sha256}`);
    }
    for (const name of files.keys()) problems.push(`${name} is in the archive but not in the manifest`);
    for (const b of manifest.entries) {
      const seen = this.blobs.get(b.name);
      check(b.name, `${b.size} bytes ${b.sha256}`, seen ? `${seen.size} bytes ${seen.sha256}` : 'missing');
    }
    if (header.schemaVersion !== manifest.schemaVersion) {
      problems.push(
        `${ENTRY.header} says schema ${header.schemaVersion}, ${ENTRY.manifest} ${manifest.schemaVersion}`,
      );
    }
    check('archive checksum', checksum.stored, checksum.computed);
    this.progress.update({ step: 'Verify', done: manifest.totals.rows, unit: 'rows', state: 'done' });

    const bundle = this.blobs.get(ENTRY.keyBundle);
    const config = this.blobs.get(ENTRY.config);
    return {
      file: this.file,
      header,
      manifest,
      keyBundle: bundle ? JSON.parse(bundle.body.toString('utf8')) : undefined,
      config: config ? JSON.parse(config.body.toString('utf8')) : undefined,
      metadata: this.metadata,
      checks,
      problems,
      nonPortable: this.nonPortable,
      compressedBytes,
    };
  }
}

/** instance_metadata's key and value columns (the first two), from a chunk of either format. */
function collectMetadata(entryName: string, body: Buffer, into: Map<string, string>): void {
  const pairs: [unknown, unknown][] = entryName.endsWith('.ndjson')
    ? legacyPairs(body)
    : splitLines(body).map((line) => {
        const [k = NULL_FIELD, v = NULL_FIELD] = line.split('\t', 2);
        return [k === NULL_FIELD ? null : unescapeText(k), v === NULL_FIELD ? null : unescapeText(v)];
      });
  for (const [k, v] of pairs) if (typeof k === 'string' && typeof v === 'string') into.set(k, v);
}

function parseJson<T>(body: Buffer, name: string, damaged: (w: string) => Error): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw damaged(`${name} is not valid JSON`);
  }
}
