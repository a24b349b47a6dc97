import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInstance } from '../../src/admin/create-instance.js';
import { type Instance, loadInstance } from '../../src/admin/instance-context.js';
import type { ConnectionTarget, Engine } from '../../src/config/connection-string.js';
import { seal } from '../../src/crypto/envelope.js';
import type { MasterKey } from '../../src/crypto/master-key.js';
import { bulkLoad } from '../../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import type { ColumnSpec, TableSpec } from '../../src/storage/schema/column-types.js';
import { TABLES, tableSpec } from '../../src/storage/schema/tables.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { hashTable } from '../../src/storage/table-hash.js';
import { type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';

/** Each move test file has a registry of its own (set before any instance is created). */
export function isolateRegistry(label: string): string {
  const dir = tempDir(`${label}-reg`);
  process.env.CUTTLE_REGISTRY = path.join(dir, 'instances.json');
  return process.env.CUTTLE_REGISTRY;
}

const NASTY = [
  'plain',
  'a"b',
  'tab\there',
  'new\nline',
  'back\\slash',
  "quo'te",
  '\\N',
  'Ábc ✓ 🐙',
  'e\u0301',
  '',
];

function value(table: TableSpec, col: ColumnSpec, i: number): CanonicalValue {
  if (col.nullable && i % 7 === 3) return null;
  const s = NASTY[i % NASTY.length]!;
  switch (col.type) {
    case 'id':
      // Mixed case and digit widths: bytewise order differs from natural and case-folded order.
      return `${i % 3 === 0 ? 'K' : 'k'}${table.name.slice(0, 4)}-${i}`;
    case 'text':
      return `${s}-${col.name}-${i}`;
    case 'longtext':
      return `${s}\n${'line of log text '.repeat(i % 5)}${i}`;
    case 'json':
      return `{"i":${i},"b":[1,2,{"s":"${i % 2 ? 'x' : 'é'}"}], "spaced" : true}`;
    case 'int':
      return i % 11 === 0 ? -2147483648 : i;
    case 'bigint':
      return i % 13 === 0 ? 2 ** 53 - 1 : i * 1000;
    case 'int64':
      return i % 2 ? '9223372036854775807' : String(-9223372036854775807n + BigInt(i));
    case 'bool':
      return i % 2 === 0;
    case 'timestamp':
      return new Date(Date.UTC(2024, 1, 29, 23, 59, 59, i % 1000) - i * 60_000).toISOString();
    case 'blob':
      return Buffer.from([i % 256, 0, 255]).toString('base64');
  }
}

function rowsFor(table: TableSpec, n: number, key: MasterKey): CanonicalValue[][] {
  const rows: CanonicalValue[][] = [];
  for (let i = 0; i < n; i++) {
    const row = table.columns.map((c) => value(table, c, i));
    if (table.name === 'variables') {
      const sensitive = i % 2 === 0;
      row[table.columns.findIndex((c) => c.name === 'is_sensitive')] = sensitive;
      row[table.columns.findIndex((c) => c.name === 'value')] = sensitive
        ? seal(key, `secret-value-${i}`)
        : `clear-${i}`;
    }
    if (table.name === 'server_tasks') {
      row[table.columns.findIndex((c) => c.name === 'state')] = i % 2 ? 'Success' : 'Failed';
    }
    if (table.name === 'task_log_chunks') {
      row[0] = `ServerTasks-${i % 17}`;
      row[1] = i;
    }
    rows.push(row);
  }
  return rows;
}

async function* batches(rows: CanonicalValue[][], size = 1000) {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

async function* generated(table: TableSpec, n: number, key: MasterKey, size = 2000) {
  for (let start = 0; start < n; start += size) {
    const rows: CanonicalValue[][] = [];
    for (let i = start; i < Math.min(n, start + size); i++) {
      const row = table.columns.map((c) => value(table, c, i));
      row[0] = `ServerTasks-${i % 97}`;
      row[1] = i;
      rows.push(row);
    }
    yield rows;
  }
  void key;
}

/** Seeds every table but the instance's own metadata: codec edge cases, sealed secrets, task logs. */
export async function seedDataset(
  storage: Storage,
  key: MasterKey,
  opts: { rowsPerTable?: number; logChunks?: number } = {},
): Promise<void> {
  const n = opts.rowsPerTable ?? 40;
  for (const table of TABLES) {
    if (table.name === 'instance_metadata' || table.name === 'key_allocations') continue;
    if (table.name === 'task_log_chunks' && opts.logChunks) {
      await bulkLoad(storage, table, generated(table, opts.logChunks, key));
      continue;
    }
    await bulkLoad(storage, table, batches(rowsFor(table, n, key)));
  }
}

export interface TestInstance {
  name: string;
  home: string;
  db: TestDatabase;
  inst: () => Instance;
}

let counter = 0;

export async function makeInstance(
  engine: Engine,
  label: string,
  seed: { rowsPerTable?: number; logChunks?: number; masterKeyFile?: string } = {},
): Promise<TestInstance> {
  const db = testDatabase(engine, label);
  const name = `${label}-${process.pid}-${counter++}`;
  const home = tempDir(`${label}-home`);
  await createInstance({
    name,
    home,
    connectionString: db.connectionString,
    masterKeyFile: seed.masterKeyFile,
  });
  const ti: TestInstance = { name, home, db, inst: () => loadInstance({ instance: name }) };
  const storage = await openStorage(db.target);
  try {
    await seedDataset(storage, ti.inst().key, seed);
  } finally {
    await storage.close();
  }
  return ti;
}

export async function withStorage<T>(target: ConnectionTarget, fn: (s: Storage) => Promise<T>): Promise<T> {
  const s = await openStorage(target);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Content hashes of every table, by name. */
export async function hashes(target: ConnectionTarget): Promise<Map<string, string>> {
  return withStorage(target, async (s) => {
    const m = new Map<string, string>();
    for (const t of TABLES) m.set(t.name, (await hashTable(s.db, t)).sha256);
    return m;
  });
}

/** Tables a finished move legitimately changes afterwards (fence on the old, maintenance off on the new). */
export const CHANGED_AFTER_MOVE = new Set(['instance_metadata', 'key_allocations', 'events']);

export function spec(name: string) {
  return tableSpec(name);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A second PostgreSQL cluster (initdb + pg_ctl, trust auth) on a free port; `stop()` removes it. */
export async function startSecondCluster(): Promise<{ port: number; stop: () => void }> {
  const dir = tempDir('pg2');
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) fs.chownSync(dir, uidOf('postgres'), uidOf('postgres'));
  const run = (args: string[]) => {
    const cmd = asPostgres ? 'runuser' : args[0]!;
    const full = asPostgres ? ['-u', 'postgres', '--', ...args] : args.slice(1);
    const r = spawnSync(cmd, full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  };
  run([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run([
    `${PG_BIN}/pg_ctl`,
    '-D',
    data,
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-l',
    path.join(dir, 'log'),
    '-w',
    'start',
  ]);
  return {
    port,
    stop: () => {
      try {
        run([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}
