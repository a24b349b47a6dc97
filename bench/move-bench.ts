/**
 * `npm run bench:move -- [--scale 0.1] [--runs N] [--keep]`: the reference dataset (dataset-generator.ts) in a
 * SQLite instance, then, in one run on the same machine:
 *   1. cuttle database move SQLite -> PostgreSQL (verified)          vs  pgloader SQLite -> PostgreSQL
 *   2. cuttle database move PostgreSQL -> PostgreSQL (a second cluster, verified)
 *                                                                     vs  pg_dump | psql between the same clusters,
 *                                                                         bare and followed by a re-read of its
 *                                                                         target (reread.ts: the least a check costs)
 *   3. cuttle database move PostgreSQL -> MariaDB (time, rows/s)
 * `--compiled` runs the CLI compiled (bench/cli-runner.ts) instead of through tsx.
 * Peak memory is /usr/bin/time -v's "Maximum resident set size" of each child process; downtime is
 * what the move command reports itself (maintenance on to off); CPU is the command's own and both
 * PostgreSQL clusters' (cpu-account.ts; the MariaDB server's work is not in it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { startSecondCluster } from '../test/move/move-fixtures.js';
import { cliArgs } from './cli-runner.js';
import { cpuCell } from './cpu-account.js';
import { generateDataset, scaled } from './dataset-generator.js';
import { median } from './median.js';
import { plusReread, rereadAll } from './reread.js';
import { settle } from './settle.js';
import { type Run, timed } from './timed.js';

const args = process.argv.slice(2);
const scale = Number(args[args.indexOf('--scale') + 1] ?? 0.1) || 0.1;
const keep = args.includes('--keep');
/** `--runs N`: the SQLite -> PostgreSQL and PostgreSQL -> PostgreSQL pairs (move and reference tool, alternating) N times each; medians decide. */
const runs = Math.max(1, Number(args[args.indexOf('--runs') + 1] ?? 1) || 1);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cuttle-bench-move-'));
process.env.CUTTLE_REGISTRY = path.join(work, 'instances.json');
const suffix = Date.now().toString(36);
const db = {
  sq: `bench_mv_sq_${suffix}`,
  pgl: `bench_pgl_${suffix}`,
  pg2: `bench_mv_pg_${suffix}`,
  pd: `bench_pd_${suffix}`,
  my: `bench_mv_my_${suffix}`,
};

const CLI = cliArgs(args.includes('--compiled'));
const cuttle = (a: string[]) => timed(process.execPath, [...CLI, ...a]);

function ensurePgloader(): boolean {
  if (spawnSync('which', ['pgloader']).status === 0) return true;
  console.log('Installing pgloader (apt-get)...');
  spawnSync('apt-get', ['install', '-y', '-q', 'pgloader'], { stdio: 'inherit' });
  return spawnSync('which', ['pgloader']).status === 0;
}

async function pgAdmin(port: number, sqlText: string) {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

function downtime(out: string): string {
  return /Total downtime \(maintenance on to off\): ([^\n]+)\./.exec(out)?.[1] ?? '?';
}

async function main() {
  const size = scaled(scale);
  console.log(`Reference dataset at scale ${scale}:`, size);
  const pg2 = await startSecondCluster();
  try {
    const { createInstance } = await import('../src/admin/create-instance.js');
    const { loadInstance, openInstanceStorage } = await import('../src/admin/instance-context.js');
    const home = path.join(work, 'home');
    const sqliteFile = path.join(home, 'cuttle.db');
    await createInstance({ name: 'bench', home });
    const inst = loadInstance({ instance: 'bench' });
    const storage = await openInstanceStorage(inst);
    const t0 = Date.now();
    const counts = await generateDataset(storage, size, { key: inst.key });
    await storage.close();
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `Generated ${rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s; SQLite file ${(fs.statSync(sqliteFile).size / 1048576).toFixed(1)} MB`,
    );
    // pgloader reads a copy taken before the move (the move fences the original).
    const sqliteCopy = path.join(work, 'copy.db');
    fs.copyFileSync(sqliteFile, sqliteCopy);

    const main5432 = (d: string) => `postgres://postgres@127.0.0.1:5432/${d}`;
    // every timed command starts with both clusters' writes flushed (settle.ts)
    const ports = [5432, pg2.port];
    const configFile = path.join(home, 'cuttle.config.json');
    const pristineConfig = fs.readFileSync(configFile);
    const load = path.join(work, 'load.pgl');
    fs.writeFileSync(
      load,
      `LOAD DATABASE FROM sqlite://${sqliteCopy} INTO ${main5432(db.pgl)}\n` +
        `WITH include drop, create tables, create indexes, reset sequences,\n` +
        `     workers = 2, concurrency = 1, prefetch rows = 10000, batch rows = 5000;\n`,
    );
    const withPgloader = ensurePgloader();
    const m1s: Run[] = [];
    const pgls: Run[] = [];
    for (let i = 0; i < runs; i++) {
      if (i > 0) {
        // back to the instance as generated: the move fenced and left the SQLite file
        await pgAdmin(5432, `DROP DATABASE IF EXISTS ${db.sq} WITH (FORCE)`);
        for (const f of ['', '-wal', '-shm']) fs.rmSync(sqliteFile + f, { force: true });
        fs.copyFileSync(sqliteCopy, sqliteFile);
        fs.rmSync(path.join(home, 'moves'), { recursive: true, force: true });
        fs.writeFileSync(configFile, pristineConfig);
      }
      settle(ports);
      m1s.push(cuttle(['database', 'move', '--instance', 'bench', '--to', main5432(db.sq), '--yes']));
      if (withPgloader) {
        await pgAdmin(5432, `DROP DATABASE IF EXISTS ${db.pgl} WITH (FORCE)`);
        await pgAdmin(5432, `CREATE DATABASE ${db.pgl}`);
        settle(ports);
        pgls.push(timed('pgloader', ['--no-ssl-cert-verification', load]));
      }
    }
    const m1 = median(m1s);
    const pgl = pgls.length ? median(pgls) : undefined;

    // the PostgreSQL -> PostgreSQL pair, alternating, `runs` times from the moved instance: each
    // later run unfences the source, points the instance back at it and empties the targets
    const onSq = fs.readFileSync(configFile);
    const m2s: Run[] = [];
    const dumps: Run[] = [];
    const dumpsReread: Run[] = [];
    for (let i = 0; i < runs; i++) {
      if (i > 0) {
        cuttle([
          'database',
          'unfence',
          '--instance',
          'bench',
          '--storage-connection-string',
          main5432(db.sq),
        ]);
        fs.writeFileSync(configFile, onSq);
        fs.rmSync(path.join(home, 'moves'), { recursive: true, force: true });
        for (const d of [db.pg2, db.pd]) await pgAdmin(pg2.port, `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
      }
      settle(ports);
      m2s.push(
        cuttle([
          'database',
          'move',
          '--instance',
          'bench',
          '--to',
          `postgres://postgres@127.0.0.1:${pg2.port}/${db.pg2}`,
          '--yes',
        ]),
      );
      await pgAdmin(pg2.port, `CREATE DATABASE ${db.pd}`);
      settle(ports);
      dumps.push(
        timed('bash', [
          '-o',
          'pipefail',
          '-c',
          `${PG_BIN}/pg_dump -h 127.0.0.1 -p 5432 -U postgres ${db.sq} | ${PG_BIN}/psql -q -h 127.0.0.1 -p ${pg2.port} -U postgres -d ${db.pd} >/dev/null`,
        ]),
      );
      // the cheapest check pg_dump | psql could add: its target read back once (reread.ts)
      dumpsReread.push(plusReread(dumps[i]!, rereadAll('127.0.0.1', pg2.port, db.pd)));
    }
    const m2 = median(m2s);
    const dump = median(dumps);
    const dumpReread = median(dumpsReread);
    settle(ports);
    const m3 = cuttle([
      'database',
      'move',
      '--instance',
      'bench',
      '--to',
      `mysql://root@127.0.0.1:3306/${db.my}`,
      '--yes',
    ]);

    const line = (name: string, r: Run | undefined, extra = '') =>
      r
        ? `| ${name} | ${r.seconds.toFixed(1)} | ${Math.round(rows / r.seconds).toLocaleString('en-US')} | ${cpuCell(r.cpu)} | ${r.maxRssMb.toFixed(0)} | ${r.status} | ${extra} |`
        : `| ${name} | - | - | - | - | not run | |`;
    console.log(
      '\n| run | time (s) | rows/s | CPU s (command + PostgreSQL) | peak RSS (MB) | exit | downtime reported |\n|---|---:|---:|---:|---:|---:|---|',
    );
    if (runs > 1) {
      m1s.forEach((r, i) => {
        console.log(line(`move SQLite -> PostgreSQL (verified), run ${i + 1}`, r, downtime(r.out)));
        console.log(line(`pgloader SQLite -> PostgreSQL, run ${i + 1}`, pgls[i]));
      });
    }
    if (runs > 1) {
      m2s.forEach((r, i) => {
        console.log(
          line(`move PostgreSQL -> PostgreSQL 2nd cluster (verified), run ${i + 1}`, r, downtime(r.out)),
        );
        console.log(line(`pg_dump | psql, same clusters, run ${i + 1}`, dumps[i]));
        console.log(line(`pg_dump | psql, then its target re-read once, run ${i + 1}`, dumpsReread[i]));
      });
    }
    const med = runs > 1 ? ` (median of ${runs})` : '';
    console.log(line(`move SQLite -> PostgreSQL (verified)${med}`, m1, downtime(m1.out)));
    console.log(line(`pgloader SQLite -> PostgreSQL${med}`, pgl));
    console.log(line(`move PostgreSQL -> PostgreSQL 2nd cluster (verified)${med}`, m2, downtime(m2.out)));
    console.log(line(`pg_dump | psql, same clusters${med}`, dump));
    console.log(line(`pg_dump | psql, then its target re-read once${med}`, dumpReread));
    console.log(line('move PostgreSQL -> MariaDB (verified)', m3, downtime(m3.out)));
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(
      `\nmove PG->PG / pg_dump|psql: ${ratio(m2.seconds, dump.seconds)}x (lower is better; aim <= 1); ` +
        `against pg_dump|psql plus one unhashed re-read of its target: ${ratio(m2.seconds, dumpReread.seconds)}x`,
    );
    if (pgl) console.log(`pgloader / move SQLite->PG: ${ratio(pgl.seconds, m1.seconds)}x (aim >= 2.5)`);
    console.log(
      `(cuttle times include ${args.includes('--compiled') ? 'the compiled CLI start-up' : 'tsx start-up of the CLI'}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
    );
  } finally {
    if (!keep) {
      for (const d of [db.sq, db.pgl])
        await pgAdmin(5432, `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`).catch(() => {});
      const my = await mysql
        .createConnection({ host: '127.0.0.1', port: 3306, user: 'root' })
        .catch(() => undefined);
      await my?.query(`DROP DATABASE IF EXISTS ${db.my}`).catch(() => {});
      await my?.end();
      pg2.stop();
      fs.rmSync(work, { recursive: true, force: true });
    } else console.log(`Kept ${work}; second cluster on port ${pg2.port} (stop it by hand)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
