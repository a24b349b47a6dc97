/**
 * `npm run bench:backup -- [--scale 0.1] [--runs N] [--keep]`: builds the reference dataset (dataset-generator.ts)
 * in a fresh PostgreSQL instance, then measures in the same run, on the same machine:
 *   cuttle backup create   vs  pg_dump -Fc      (time, archive size, peak RSS)
 *   cuttle backup restore  vs  pg_restore -j2   (time, peak RSS) into fresh databases, bare and followed by
 *                                               a re-read of what it restored (reread.ts: the least a check costs)
 * `--compiled` runs the CLI compiled (bench/cli-runner.ts) instead of through tsx.
 * Peak memory is /usr/bin/time -v's "Maximum resident set size" of each child process; CPU is the
 * command's own and PostgreSQL's (cpu-account.ts): on 2 cores, where the time goes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cliArgs } from './cli-runner.js';
import { cpuCell } from './cpu-account.js';
import { generateDataset, scaled } from './dataset-generator.js';
import { median } from './median.js';
import { plusReread, rereadAll } from './reread.js';
import { settle } from './settle.js';
import { type Run, timed as run } from './timed.js';

const args = process.argv.slice(2);
const scale = Number(args[args.indexOf('--scale') + 1] ?? 1) || 1;
const keep = args.includes('--keep');
const runs = Math.max(1, Number(args[args.indexOf('--runs') + 1] ?? 1) || 1);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const HOST = process.env.CUTTLE_TEST_PG_HOST ?? '127.0.0.1';
const PORT = Number(process.env.CUTTLE_TEST_PG_PORT ?? 5432);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cuttle-bench-backup-'));
process.env.CUTTLE_REGISTRY = path.join(work, 'instances.json');
const suffix = `${Date.now().toString(36)}`;
const dbs = {
  source: `cuttle_bench_src_${suffix}`,
  cuttle: `cuttle_bench_rc_${suffix}`,
  pgr: `cuttle_bench_pr_${suffix}`,
};
const cs = (db: string) => `postgres://postgres@${HOST}:${PORT}/${db}`;

/** The cluster's address for pg_dump and pg_restore. */
const PG_ENV = { PGHOST: HOST, PGPORT: String(PORT), PGUSER: 'postgres' };
const timed = (cmd: string, cmdArgs: string[]): Run => run(cmd, cmdArgs, PG_ENV);

const CLI = cliArgs(args.includes('--compiled'));
const cuttle = (a: string[]) => timed(process.execPath, [...CLI, ...a]);
/** Every timed command starts with the cluster's writes flushed (settle.ts). */
const settled = <T>(run: () => T): T => {
  settle([PORT]);
  return run();
};

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: HOST, port: PORT, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function main() {
  const size = scaled(scale);
  console.log(`Reference dataset at scale ${scale}:`, size);
  const { createInstance } = await import('../src/admin/create-instance.js');
  const { loadInstance, openInstanceStorage } = await import('../src/admin/instance-context.js');
  const home = path.join(work, 'home');
  await createInstance({ name: 'bench', home, connectionString: cs(dbs.source) });
  const inst = loadInstance({ instance: 'bench' });
  const storage = await openInstanceStorage(inst);
  const t0 = Date.now();
  const counts = await generateDataset(storage, size, { key: inst.key });
  await admin((c) => c.query(`VACUUM ANALYZE`).catch(() => {}));
  const dbSize = await storage.dialect.databaseSize(storage.db);
  await storage.close();
  console.log(
    `Generated in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}; PostgreSQL size ${mb(dbSize ?? 0)}`,
  );

  const archive = path.join(work, 'cuttle.tar.zst');
  const dump = path.join(work, 'pg.dump');
  const keyFile = path.join(home, 'master.key');
  const all: Record<'create' | 'pgDump' | 'restore' | 'pgRestore' | 'pgRestoreReread', Run[]> = {
    create: [],
    pgDump: [],
    restore: [],
    pgRestore: [],
    pgRestoreReread: [],
  };
  // `--runs N`: each pair N times, alternating; the medians decide (the machine's speed drifts)
  for (let i = 0; i < runs; i++) {
    for (const f of [archive, dump]) fs.rmSync(f, { force: true });
    await admin(async (c) => {
      for (const db of [dbs.cuttle, dbs.pgr]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${dbs.pgr}`);
    });
    all.create.push(
      settled(() => cuttle(['backup', 'create', '--instance', 'bench', '--output', archive, '--no-files'])),
    );
    all.pgDump.push(settled(() => timed(path.join(PG_BIN, 'pg_dump'), ['-Fc', '-f', dump, dbs.source])));
    all.restore.push(
      settled(() =>
        cuttle([
          'backup',
          'restore',
          archive,
          '--storage-connection-string',
          cs(dbs.cuttle),
          '--master-key-file',
          keyFile,
        ]),
      ),
    );
    all.pgRestore.push(settled(() => timed(path.join(PG_BIN, 'pg_restore'), ['-j2', '-d', dbs.pgr, dump])));
    // the cheapest check pg_restore could add: the restored tables read back once (reread.ts)
    all.pgRestoreReread.push(plusReread(all.pgRestore[i]!, rereadAll(HOST, PORT, dbs.pgr)));
  }
  const create = median(all.create);
  const pgDump = median(all.pgDump);
  const restore = median(all.restore);
  const pgRestore = median(all.pgRestore);
  const pgRestoreReread = median(all.pgRestoreReread);

  const row = (name: string, r: Run, bytes?: number) =>
    console.log(
      `| ${name} | ${r.seconds.toFixed(1)} | ${bytes === undefined ? '' : mb(bytes)} | ${cpuCell(r.cpu)} | ${r.maxRssMb.toFixed(0)} | ${r.status} |`,
    );
  console.log(
    '\n| step | time (s) | size | CPU s (command + PostgreSQL) | peak RSS (MB) | exit |\n|---|---:|---:|---:|---:|---:|',
  );
  if (runs > 1) {
    for (let i = 0; i < runs; i++) {
      row(`backup create, run ${i + 1}`, all.create[i]!);
      row(`pg_dump -Fc, run ${i + 1}`, all.pgDump[i]!);
      row(`backup restore, run ${i + 1}`, all.restore[i]!);
      row(`pg_restore -j2, run ${i + 1}`, all.pgRestore[i]!);
      row(`pg_restore -j2, then every table re-read once, run ${i + 1}`, all.pgRestoreReread[i]!);
    }
  }
  const med = runs > 1 ? ` (median of ${runs})` : '';
  row(`backup create${med}`, create, fs.existsSync(archive) ? fs.statSync(archive).size : 0);
  row(`pg_dump -Fc${med}`, pgDump, fs.existsSync(dump) ? fs.statSync(dump).size : 0);
  row(`backup restore${med}`, restore);
  row(`pg_restore -j2${med}`, pgRestore);
  row(`pg_restore -j2, then every table re-read once${med}`, pgRestoreReread);
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(
    `\ncreate/pg_dump time ${ratio(create.seconds, pgDump.seconds)}x, size ${ratio(fs.statSync(archive).size, fs.statSync(dump).size)}x; ` +
      `restore/pg_restore time ${ratio(restore.seconds, pgRestore.seconds)}x; against pg_restore plus one unhashed ` +
      `re-read of what it restored ${ratio(restore.seconds, pgRestoreReread.seconds)}x`,
  );
  console.log(
    `(${args.includes('--compiled') ? 'compiled CLI' : 'includes tsx start-up of the cuttle CLI'}; load average now ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (keep) {
      console.log(`Kept ${work} and databases ${Object.values(dbs).join(', ')}`);
      return;
    }
    await admin(async (c) => {
      for (const db of Object.values(dbs)) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }).catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  });

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}
