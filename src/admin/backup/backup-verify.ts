import { createHash, type Hash } from 'node:crypto';
import type { KeyBundle } from '../../crypto/key-bundle.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { NULL_FIELD, splitLines, unescapeText } from '../../storage/row-text.js';
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
  const tables = new Map<string, Seen>();
  const files = new Map<string, { size: number; sha256: string }>();
  const blobs = new Map<string, { size: number; sha256: string; body: Buffer }>();
  const metadata = new Map<string, string>();
  let header: ArchiveHeader | undefined;
  let manifest: Manifest | undefined;
  let checksum: { stored: string; computed: string } | undefined;
  const problems: string[] = [];
  const damaged = (what: string) =>
    new ArchiveDamagedError(`The backup archive ${file} is damaged: ${what}.`, {
      hints: ['Use another copy of the backup; this one cannot be restored.'],
    });
  try {
    let first = true;
    let rowsRead = 0;
    for (let entry = await reader.next(); entry; entry = await reader.next()) {
      if (first && entry.name !== ENTRY.header) {
        throw damaged(`it does not start with ${ENTRY.header} (is it a Cuttle backup archive?)`);
      }
      first = false;
      if (checksum) throw damaged(`an entry (${entry.name}) follows ${ENTRY.checksum}`);
      const table = tableOfEntry(entry.name);
      if (table) {
        const body = await reader.readBody();
        let seen = tables.get(table);
        if (!seen) {
          seen = { rows: 0, bytes: 0, chunks: 0, hash: createHash('sha256') };
          tables.set(table, seen);
        }
        seen.hash.update(body);
        seen.bytes += body.length;
        seen.chunks++;
        let n = 0;
        for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) n++;
        seen.rows += n;
        rowsRead += n;
        if (table === 'instance_metadata') collectMetadata(entry.name, body, metadata);
        progress.update({ step: 'Verify', done: rowsRead, unit: 'rows', message: `(${table})` });
        continue;
      }
      if (fileOfEntry(entry.name)) {
        const h = createHash('sha256');
        for await (const piece of reader.bodyChunks()) h.update(piece);
        files.set(entry.name, { size: entry.size, sha256: h.digest('hex') });
        continue;
      }
      if (entry.name === ENTRY.checksum) {
        const computed = reader.hashBeforeEntry;
        checksum = { stored: (await reader.readBody()).toString('utf8').trim(), computed };
        continue;
      }
      const body = await reader.readBody();
      if (entry.name === ENTRY.header) header = parseJson(body, entry.name, damaged);
      else if (entry.name === ENTRY.manifest) manifest = parseJson(body, entry.name, damaged);
      else if (entry.name === ENTRY.keyBundle || entry.name === ENTRY.config) {
        blobs.set(entry.name, { size: body.length, sha256: sha256(body), body });
      } else problems.push(`unexpected entry ${entry.name}`);
    }
    await reader.finish();
  } finally {
    reader.close();
  }
  if (!header) throw damaged(`${ENTRY.header} is missing`);
  if (!manifest) throw damaged(`${ENTRY.manifest} is missing (truncated?)`);
  if (!checksum) throw damaged(`${ENTRY.checksum} is missing (truncated?)`);
  if (!READABLE_FORMATS.includes(header.format) || manifest.format !== header.format) {
    throw damaged(
      `its format is "${String(manifest.format)}", this Cuttle reads ${READABLE_FORMATS.join(' and ')}`,
    );
  }

  const checks: CheckLine[] = [];
  const check = (entry: string, expected: string, found: string) => {
    const ok = expected === found;
    checks.push({ entry, expected, found, ok });
    if (!ok) problems.push(`${entry}: expected ${expected}, found ${found}`);
  };
  for (const t of manifest.tables) {
    const seen = tables.get(t.name);
    tables.delete(t.name);
    const digest = seen ? seen.hash.digest('hex') : sha256(Buffer.alloc(0));
    check(`table ${t.name} rows`, String(t.rows), String(seen?.rows ?? 0));
    check(`table ${t.name} sha256`, t.sha256, digest);
  }
  for (const name of tables.keys()) problems.push(`table ${name} is in the archive but not in the manifest`);
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
    const seen = blobs.get(b.name);
    check(b.name, `${b.size} bytes ${b.sha256}`, seen ? `${seen.size} bytes ${seen.sha256}` : 'missing');
  }
  if (header.schemaVersion !== manifest.schemaVersion) {
    problems.push(
      `${ENTRY.header} says schema ${header.schemaVersion}, ${ENTRY.manifest} ${manifest.schemaVersion}`,
    );
  }
  check('archive checksum', checksum.stored, checksum.computed);
  progress.update({ step: 'Verify', done: manifest.totals.rows, unit: 'rows', state: 'done' });

  const bundle = blobs.get(ENTRY.keyBundle);
  const config = blobs.get(ENTRY.config);
  return {
    file,
    header,
    manifest,
    keyBundle: bundle ? JSON.parse(bundle.body.toString('utf8')) : undefined,
    config: config ? JSON.parse(config.body.toString('utf8')) : undefined,
    metadata,
    checks,
    problems,
    compressedBytes: reader.compressedBytesRead,
  };
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
