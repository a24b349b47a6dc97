import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { configureInstance } from '../../src/admin/configure.js';
import { openCheckedStorage } from '../../src/admin/instance-context.js';
import { moveDatabase } from '../../src/admin/move/move-database.js';
import { loadJournal } from '../../src/admin/move/move-journal.js';
import { listMoves } from '../../src/admin/move/move-status.js';
import { type Engine, sameDatabase } from '../../src/config/connection-string.js';
import { getMaintenance } from '../../src/core/maintenance-service.js';
import { silentProgress } from '../../src/lib/progress.js';
import { missingIndexes } from '../../src/storage/bulk-load/deferred-indexes.js';
import { getMeta, META } from '../../src/storage/repositories/metadata-repository.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, testDatabase } from '../helpers/engines.js';
import { CHANGED_AFTER_MOVE, hashes, isolateRegistry, makeInstance, withStorage } from './move-fixtures.js';

isolateRegistry('move-faults');

interface Fault {
  point: string;
  from: Engine;
  to: Engine;
  /** The move had passed its point of no return when it died. */
  cutOver: boolean;
  logChunks?: number;
}

const pick = (e: Engine, fallback: Engine = 'sqlite'): Engine => (ENGINES.includes(e) ? e : fallback);
const PG = pick('postgres');
const MY = pick('mysql');

const FAULTS: Fault[] = [
  { point: 'after-preflight', from: 'sqlite', to: PG, cutOver: false },
  { point: 'after-maintenance', from: 'sqlite', to: PG, cutOver: false },
  { point: 'after-drain', from: PG, to: 'sqlite', cutOver: false },
  { point: 'after-schema', from: 'sqlite', to: MY, cutOver: false },
  { point: 'during-copy:task_log_chunks:8000', from: PG, to: MY, cutOver: false, logChunks: 30_000 },
  { point: 'during-copy:task_log_chunks:6000', from: 'sqlite', to: PG, cutOver: false, logChunks: 20_000 },
  { point: 'after-copy:events', from: MY, to: 'sqlite', cutOver: false },
  { point: 'after-verify', from: 'sqlite', to: PG, cutOver: false },
  { point: 'after-config', from: 'sqlite', to: PG, cutOver: true },
  { point: 'after-fence', from: PG, to: 'sqlite', cutOver: true },
  { point: 'after-start', from: 'sqlite', to: MY, cutOver: true },
];

describe('cuttle database move: SIGKILL at every step, then --resume', { concurrency: 4 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c().catch(() => {});
  });

  for (const f of FAULTS) {
    it(`killed at ${f.point} (${f.from} -> ${f.to})`, async () => {
      const ti = await makeInstance(f.from, 'mf', { rowsPerTable: 20, logChunks: f.logChunks ?? 300 });
      const target = testDatabase(f.to, 'mftgt');
      cleanup.push(ti.db.drop, target.drop);
      const before = await hashes(ti.db.target);

      const r = await runCli(
        ['database', 'move', '--instance', ti.name, '--to', target.connectionString, '--yes'],
        {
          env: {
            CUTTLE_MOVE_FAULT: f.point,
            // killed mid-copy of a table loading without its indexes: the resume must build them
            CUTTLE_DEFER_INDEXES_FROM_ROWS: f.point.startsWith('during-copy') ? '1000' : undefined,
          },
        },
      );
      assert.equal(r.code, -1, `killed by SIGKILL: ${r.all}`);
      // the status reads the journal: no failure recorded, its process gone
      const killed = listMoves(ti.home)[0]!;
      assert.equal(killed.state, 'failed');
      assert.equal(killed.failure?.code, 'MOVE_PROCESS_ENDED');
      assert.equal(killed.failure?.phase, killed.phase);
      assert.match(
        killed.failure!.message,
        /^The move process ended during \w+ without finishing; .*--resume/,
      );
      const inst = ti.inst();
      if (!f.cutOver) {
        // The old instance still opens and the config still points at it.
        assert.ok(sameDatabase(inst.target, ti.db.target), 'config unchanged');
        const s = await openCheckedStorage(ti.db.target, inst.key);
        await s.close();
      }
      if (['after-schema', 'after-copy:events', 'after-verify'].includes(f.point)) {
        // A half-made target is recognisable: configure refuses it.
        await assert.rejects(
          configureInstance(inst, { storageConnectionString: target.connectionString }),
          /target of an unfinished database move/,
        );
      }
      if (f.point.startsWith('during-copy')) {
        const dir = path.join(ti.home, 'moves');
        const j = loadJournal(path.join(dir, fs.readdirSync(dir)[0]!));
        assert.equal(j.tables.task_log_chunks?.state, 'copying', 'the journal shows the half-copied table');
      }

      const res = await moveDatabase(ti.inst(), { resume: true }, silentProgress);
      assert.equal(res.moveId, killed.moveId);
      assert.equal(listMoves(ti.home)[0]?.state, 'success');
      const moved = await hashes(target.target);
      const source = await hashes(ti.db.target);
      for (const [name, sha] of before) {
        if (CHANGED_AFTER_MOVE.has(name)) continue;
        assert.equal(moved.get(name), sha, `${name} identical after resume`);
        assert.equal(source.get(name), sha, `${name} unchanged on the source`);
      }
      assert.ok(sameDatabase(ti.inst().target, target.target), 'config points at the new database');
      await assert.rejects(openCheckedStorage(ti.db.target, inst.key), /fenced/);
      await withStorage(target.target, async (s) => {
        assert.equal((await getMaintenance(s.db)).IsInMaintenanceMode, false);
        assert.equal(await getMeta(s.db, 'move-in-progress'), undefined);
        for (const t of TABLES) assert.deepEqual(await missingIndexes(s, t), [], `${t.name} has every index`);
      });
    });
  }

  // a SQLite source streams in rowid order, a PostgreSQL one COPY to COPY in heap order; either way
  // the natural-order check differs, the key-order one names the row
  // (corrupt-early: right after the table's copy, so the check that runs beside the other copies
  // finds it and stops the move from there)
  for (const from of [...new Set<Engine>(['sqlite', PG])]) {
    for (const fault of ['corrupt', 'corrupt-early']) {
      it(`${fault === 'corrupt' ? 'corruption on the target between copy and verify' : 'corruption found by the check beside the copies'} (${from} -> ${PG}): cutover refused, row named`, async () => {
        const tag = `${fault === 'corrupt' ? 'c' : 'e'}${from.slice(0, 2)}`;
        const ti = await makeInstance(from, `mf${tag}`, { rowsPerTable: 20 });
        const target = testDatabase(PG, `mftgt${tag}`);
        cleanup.push(ti.db.drop, target.drop);
        const r = await runCli(
          ['database', 'move', '--instance', ti.name, '--to', target.connectionString, '--yes'],
          { env: { CUTTLE_MOVE_FAULT: `${fault}:events` } },
        );
        assert.equal(r.code, 3, r.all);
        assert.match(r.stderr, /Verification failed for table events/);
        assert.match(r.stderr, /first difference at id=\S+ \(column \w+ differs\)/);
        assert.match(r.stderr, /Nothing was lost/);
        // the early check stopped the move while it copied; the late one in the verify step
        const dir = path.join(ti.home, 'moves');
        const j = loadJournal(path.join(dir, fs.readdirSync(dir)[0]!));
        assert.equal(j.phase, fault === 'corrupt' ? 'verify' : 'copy');
        assert.equal(j.failure?.phase, j.phase, 'the journal records the phase it failed in');
        assert.equal(j.failure?.kind, 'runtime');
        assert.match(j.failure?.message ?? '', /^Verification failed for table events/);
        const inst = ti.inst();
        assert.ok(sameDatabase(inst.target, ti.db.target), 'config unchanged');
        await withStorage(ti.db.target, async (s) => {
          assert.equal(await getMeta(s.db, META.fence), undefined, 'source not fenced');
          assert.equal((await getMaintenance(s.db)).IsInMaintenanceMode, false, 'maintenance off again');
        });
        const s = await openCheckedStorage(ti.db.target, inst.key);
        await s.close();
      });
    }
  }
});
