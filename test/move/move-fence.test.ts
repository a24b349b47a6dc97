import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openCheckedStorage } from '../../src/admin/instance-context.js';
import { moveDatabase } from '../../src/admin/move/move-database.js';
import { describeTarget, sameDatabase } from '../../src/config/connection-string.js';
import { getMaintenance } from '../../src/core/maintenance-service.js';
import { nowIso } from '../../src/lib/clock.js';
import { type ProgressUpdate, silentProgress } from '../../src/lib/progress.js';
import { runCli } from '../helpers/cli.js';
import { testDatabase } from '../helpers/engines.js';
import { isolateRegistry, makeInstance, withStorage } from './move-fixtures.js';

isolateRegistry('move-fence');

describe('after a move: fence, configure, unfence; drain before the copy', { concurrency: 2 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c().catch(() => {});
  });

  it('configure refuses the fenced database and another instance database; unfence rolls back', async () => {
    const a = await makeInstance('sqlite', 'mfa', { rowsPerTable: 5 });
    // Same master key, another instance id: only the instance check can tell them apart.
    const b = await makeInstance('sqlite', 'mfb', {
      rowsPerTable: 5,
      masterKeyFile: path.join(a.home, 'master.key'),
    });
    const target = testDatabase('sqlite', 'mfatgt');
    cleanup.push(a.db.drop, b.db.drop, target.drop);
    await moveDatabase(a.inst(), { to: target.connectionString, yes: true }, silentProgress);

    const fenced = await runCli([
      'configure',
      '--instance',
      a.name,
      '--storage-connection-string',
      a.db.connectionString,
    ]);
    assert.equal(fenced.code, 2, fenced.all);
    assert.match(fenced.all, /is fenced: it was moved to/);
    assert.ok(fenced.all.includes(describeTarget(target.target)), 'names the new location');

    const other = await runCli([
      'configure',
      '--instance',
      a.name,
      '--storage-connection-string',
      b.db.connectionString,
    ]);
    assert.equal(other.code, 2, other.all);
    assert.match(other.all, /belongs to another Cuttle instance/);
    assert.ok(sameDatabase(a.inst().target, target.target), 'config unchanged by the refusals');

    const un = await runCli([
      'database',
      'unfence',
      '--instance',
      a.name,
      '--storage-connection-string',
      a.db.connectionString,
    ]);
    assert.equal(un.code, 0, un.all);
    assert.match(un.stdout, /Unfenced/);
    const s = await openCheckedStorage(a.db.target, a.inst().key);
    await s.close();
    const back = await runCli([
      'configure',
      '--instance',
      a.name,
      '--storage-connection-string',
      a.db.connectionString,
    ]);
    assert.equal(back.code, 0, back.all);
    assert.ok(sameDatabase(a.inst().target, a.db.target), 'rolled back to the old database');
  });

  it('a deployment running when the move starts finishes before the copy and is in the copy', async () => {
    const ti = await makeInstance('sqlite', 'mfd', { rowsPerTable: 5 });
    const target = testDatabase('sqlite', 'mfdtgt');
    cleanup.push(ti.db.drop, target.drop);
    const now = nowIso();
    await withStorage(ti.db.target, async (s) => {
      await s.db
        .insertInto('server_nodes')
        .values({
          id: 'ServerNodes-other',
          name: 'other-node',
          host: 'elsewhere',
          version: '0.1.0',
          status: 'live',
          draining: false,
          task_cap: 5,
          running_tasks: 1,
          started: now,
          last_seen: now,
          change_number: 1,
        })
        .execute();
      await s.db
        .insertInto('server_tasks')
        .values({
          id: 'ServerTasks-running',
          space_id: null,
          kind: 'Deploy',
          name: 'Deploy',
          description: 'a deployment in flight',
          state: 'Executing',
          arguments_json: '{}',
          queue_time: now,
          start_time: now,
          completed_time: null,
          last_updated: now,
          error_message: null,
          has_warnings_or_errors: false,
          node_id: 'ServerNodes-other',
          lease_until: null,
          attempts: 1,
          cancel_requested: false,
          priority: 0,
          activity_json: '{}',
          change_number: 1,
        })
        .execute();
    });
    // The "other node" finishes its deployment once the move's drain has counted it, then stops.
    let drainCounted!: () => void;
    const counted = new Promise<void>((r) => {
      drainCounted = r;
    });
    const finisher = (async () => {
      await counted;
      await withStorage(ti.db.target, async (s) => {
        await s.db
          .updateTable('server_tasks')
          .set({ state: 'Success', completed_time: nowIso() })
          .where('id', '=', 'ServerTasks-running')
          .execute();
        await s.db
          .updateTable('server_nodes')
          .set({ status: 'stopped' })
          .where('id', '=', 'ServerNodes-other')
          .execute();
      });
    })();
    const notes: string[] = [];
    const progress = {
      update: (u: ProgressUpdate) => {
        if (u.step === 'drain' && u.total) drainCounted();
      },
      note: (m: string) => notes.push(m),
    };
    await moveDatabase(ti.inst(), { to: target.connectionString, yes: true, drainTimeout: 30 }, progress);
    await finisher;
    await withStorage(target.target, async (s) => {
      const t = await s.db
        .selectFrom('server_tasks')
        .selectAll()
        .where('id', '=', 'ServerTasks-running')
        .executeTakeFirstOrThrow();
      assert.equal(t.state, 'Success', 'the finished deployment is in the copy');
      assert.equal((await getMaintenance(s.db)).IsInMaintenanceMode, false);
    });
  });

  it('drain timeout: refused before the copy, maintenance back off, source usable', async () => {
    const ti = await makeInstance('sqlite', 'mft', { rowsPerTable: 5 });
    const target = testDatabase('sqlite', 'mfttgt');
    cleanup.push(ti.db.drop, target.drop);
    const heartbeat = setInterval(() => {}, 1000);
    const now = nowIso();
    await withStorage(ti.db.target, async (s) => {
      await s.db
        .insertInto('server_nodes')
        .values({
          id: 'ServerNodes-busy',
          name: 'busy-node',
          host: 'elsewhere',
          version: '0.1.0',
          status: 'live',
          draining: false,
          task_cap: 5,
          running_tasks: 1,
          started: now,
          last_seen: new Date(Date.now() + 60_000).toISOString(),
          change_number: 1,
        })
        .execute();
      await s.db
        .updateTable('server_tasks')
        .set({ state: 'Queued' })
        .where('id', '=', (await s.db.selectFrom('server_tasks').select('id').executeTakeFirstOrThrow()).id)
        .execute();
    });
    try {
      await assert.rejects(
        moveDatabase(ti.inst(), { to: target.connectionString, yes: true, drainTimeout: 1 }, silentProgress),
        (err: Error & { hints?: string[] }) => {
          assert.match(err.message, /still running or queued after 1 s/);
          assert.ok(err.hints?.some((h) => /Nothing was lost/.test(h)));
          return true;
        },
      );
    } finally {
      clearInterval(heartbeat);
    }
    await withStorage(ti.db.target, async (s) => {
      assert.equal((await getMaintenance(s.db)).IsInMaintenanceMode, false);
    });
    const s = await openCheckedStorage(ti.db.target, ti.inst().key);
    await s.close();
  });
});
