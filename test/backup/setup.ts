import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArchiveReader } from '../../src/admin/backup/archive-reader.js';
import { ArchiveWriter } from '../../src/admin/backup/archive-writer.js';
import { createInstance } from '../../src/admin/create-instance.js';
import { type Instance, loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import type { Engine } from '../../src/config/connection-string.js';
import { openStorage } from '../../src/storage/storage.js';
import { type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { type SeedResult, seedEverything } from './fixtures.js';

/** Each backup test file gets its own registry, so instances never collide across files. */
export function isolateRegistry(label: string): string {
  const file = path.join(tempDir(`${label}-reg`), 'instances.json');
  process.env.CUTTLE_REGISTRY = file;
  return file;
}

export const PASSPHRASE = 'correct horse battery staple ✓';

export function passphraseFile(dir: string, text = PASSPHRASE): string {
  const f = path.join(dir, 'passphrase.txt');
  fs.writeFileSync(f, `${text}\n`, { mode: 0o600 });
  return f;
}

export interface SourceInstance {
  name: string;
  home: string;
  db: TestDatabase;
  inst: Instance;
  seed: SeedResult;
}

/** An instance on `engine` with rows in every table and files in its home. */
export async function sourceInstance(
  engine: Engine,
  name: string,
  dbs: TestDatabase[],
  rows = 40,
): Promise<SourceInstance> {
  const db = testDatabase(engine, name);
  dbs.push(db);
  const home = tempDir(`${name}-home`);
  await createInstance({ name, home, connectionString: db.connectionString });
  const inst = loadInstance({ instance: name });
  const storage = await openInstanceStorage(inst);
  try {
    const seed = await seedEverything(storage, inst.key, home, rows);
    return { name, home, db, inst, seed };
  } finally {
    await storage.close();
  }
}

/** The tar bytes of an archive, decompressed (to look for secrets in clear); gzip or zstd. */
export function archiveText(file: string): string {
  const bytes = fs.readFileSync(file);
  if (bytes[0] === 0x1f) return gunzipSync(bytes).toString('latin1');
  const r = spawnSync('zstd', ['-d', '-q', '-c'], { input: bytes, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd -d failed: ${r.stderr}`);
  return r.stdout.toString('latin1');
}

/** Rewrites an archive entry by entry (a fresh archive.sha256 is written): to forge damaged archives. */
export async function repack(
  src: string,
  dst: string,
  edit: (name: string, body: Buffer) => Buffer | null,
): Promise<void> {
  const reader = new ArchiveReader(src);
  const writer = await ArchiveWriter.create(dst);
  for (let e = await reader.next(); e; e = await reader.next()) {
    if (e.name === 'archive.sha256') continue;
    const body = Buffer.concat(
      await (async () => {
        const parts: Buffer[] = [];
        for await (const p of reader.bodyChunks()) parts.push(p);
        return parts;
      })(),
    );
    const out = edit(e.name, body);
    if (out) await writer.addEntry(e.name, out);
  }
  reader.close();
  await writer.finish();
}

/** The tables a test target holds (none when its database or SQLite file does not exist). */
export async function tablesIn(t: TestDatabase): Promise<string[]> {
  if (t.engine === 'sqlite' && !fs.existsSync(t.target.engine === 'sqlite' ? t.target.file : '')) return [];
  const s = await openStorage(t.target).catch(() => undefined);
  if (!s) return [];
  try {
    return await s.dialect.listTables(s.db);
  } finally {
    await s.close();
  }
}
