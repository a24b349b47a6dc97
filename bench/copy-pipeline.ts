/**
 * `node --import tsx bench/copy-pipeline.ts [--scale 0.05] [--source postgres|sqlite|both] [--setup]`:
 * a focused measurement of the copy pipeline every mover shares (readTableText -> RowTextHasher ->
 * bulk loader), on the `events` and `task_log_chunks` tables of the reference dataset. Reports
 * rows/s and this process's CPU seconds (user+sys) per phase, which stay meaningful on a loaded
 * machine where wall time does not:
 *   read+hash   hashTable (what backup create and verification do)
 *   copy        the same, prefetched into bulkLoadText on a second PostgreSQL database (a move)
 * The source databases are built once (bench_cp_src on PostgreSQL, a file under the temp folder)
 * and kept for the next run; `--setup` rebuilds them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { prefetch } from '../src/admin/move/prefetch.js';
import type { ConnectionTarget } from '../src/config/connection-string.js';
import { bulkLoadText } from '../src/storage/bulk-load/bulk-loader.js';
import { migrateToLatest } from '../src/storage/migrator.js';
import { RowTextHasher } from '../src/storage/row-text.js';
import { tableSpec } from '../src/storage/schema/tables.js';
import { openStorage, type Storage } from '../src/storage/storage.js';
import { hashTable } from '../src/storage/table-hash.js';
import { readTableText } from '../src/storage/table-reader.js';
import { generateDataset, scaled } from './dataset-generator.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const scale = Number(arg('--scale', '0.05')) || 0.05;
const which = arg('--source', 'both');
const setup = args.includes('--setup');
const HOST = process.env.CUTTLE_TEST_PG_HOST ?? '127.0.0.1';
const PORT = Number(process.env.CUTTLE_TEST_PG_PORT ?? 5432);
const tag = String(scale).replace('.', '_');
const SRC_DB = `bench_cp_src_${tag}`;
const DST_DB = `bench_cp_dst_${tag}`;
const SQLITE_FILE = path.join(os.tmpdir(), `cuttle-bench-cp-${tag}.db`);
const TABLES = ['events', 'task_log_chunks'];

const pgTarget = (database: string): ConnectionTarget => ({
  engine: 'postgres',
  host: HOST,
  port: PORT,
  user: 'postgres',
  database,
  params: {},
});

async function pgDatabaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ host: HOST, port: PORT, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    return ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
  } finally {
    await c.end();
  }
}

async function prepare(target: ConnectionTarget, fresh: boolean): Promise<Storage> {
  const { dialectFactory } = await import('../src/storage/storage.js');
  if (fresh) await dialectFactory(target.engine).dropDatabase(target);
  const s = await openStorage(target, { create: true });
  await migrateToLatest(s);
  return s;
}

async function source(engine: 'postgres' | 'sqlite'): Promise<Storage> {
  const target: ConnectionTarget =
    engine === 'postgres' ? pgTarget(SRC_DB) : { engine: 'sqlite', file: SQLITE_FILE };
  const exists = engine === 'postgres' ? await pgDatabaseExists(SRC_DB) : fs.existsSync(SQLITE_FILE);
  if (exists && !setup) return openStorage(target);
  const s = await prepare(target, true);
  const t0 = Date.now();
  await generateDataset(s, scaled(scale));
  console.log(`built ${engine} source in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return s;
}

interface Measure {
  rows: number;
  bytes: number;
  cpu: number;
  wall: number;
  sha256: string;
}

async function measure(fn: () => Promise<{ rows: number; bytes: number; sha256: string }>): Promise<Measure> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const c = process.cpuUsage(c0);
  return { ...r, cpu: (c.user + c.system) / 1e6, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function readHash(src: Storage, table: string) {
  const d = await hashTable(src.db, tableSpec(table));
  return { rows: d.rows, bytes: d.bytes, sha256: d.sha256 };
}

async function copy(src: Storage, dst: Storage, table: string) {
  const spec = tableSpec(table);
  const h = new RowTextHasher();
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const piece of readTableText(src.db, spec)) {
      h.add(piece);
      yield piece;
    }
  }
  await dst.db.deleteFrom(table as never).execute();
  const rows = await bulkLoadText(
    dst,
    spec,
    prefetch(hashed(), (x) => x.length, 8 << 20),
  );
  return { rows, bytes: h.bytes, sha256: h.digest() };
}

function report(label: string, m: Measure) {
  console.log(
    `| ${label} | ${m.rows} | ${(m.bytes / 1048576).toFixed(1)} | ${m.cpu.toFixed(2)} | ${Math.round(m.rows / m.cpu).toLocaleString('en-US')} | ${m.wall.toFixed(2)} | ${m.sha256.slice(0, 12)} |`,
  );
}

async function main() {
  const engines = which === 'both' ? (['postgres', 'sqlite'] as const) : [which as 'postgres' | 'sqlite'];
  const dst = await prepare(pgTarget(DST_DB), !(await pgDatabaseExists(DST_DB)));
  console.log(
    `scale ${scale}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| phase | rows | MB | CPU s | rows per CPU s | wall s | sha256 |\n|---|---:|---:|---:|---:|---:|---|',
  );
  const totals = { cpu: 0, rows: 0 };
  for (const engine of engines) {
    const src = await source(engine);
    try {
      for (const table of TABLES) {
        // warm-up (JIT, connections, page cache), not reported
        await readHash(src, table);
        const r = await measure(() => readHash(src, table));
        report(`${engine} read+hash ${table}`, r);
        const c = await measure(() => copy(src, dst, table));
        report(`${engine} copy->pg ${table}`, c);
        if (c.sha256 !== r.sha256) throw new Error(`${table}: copy and read hashes differ`);
        const back = await readHash(dst, table);
        if (back.sha256 !== r.sha256) throw new Error(`${table}: target hash differs from source`);
        totals.cpu += r.cpu + c.cpu;
        totals.rows += r.rows + c.rows;
      }
    } finally {
      await src.close();
    }
  }
  await dst.close();
  console.log(
    `total: ${totals.cpu.toFixed(2)} CPU s, ${Math.round(totals.rows / totals.cpu).toLocaleString('en-US')} rows per CPU s; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
