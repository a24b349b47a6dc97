import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkDatabase } from '../../src/admin/database-admin.js';
import { openCheckedStorage } from '../../src/admin/instance-context.js';
import { moveDatabase } from '../../src/admin/move/move-database.js';
import {
  describeTarget,
  type Engine,
  type ServerTarget,
  sameDatabase,
} from '../../src/config/connection-string.js';
import { getMaintenance } from '../../src/core/maintenance-service.js';
import { open } from '../../src/crypto/envelope.js';
import { silentProgress } from '../../src/lib/progress.js';
import { getMeta, META } from '../../src/storage/repositories/metadata-repository.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';
import {
  CHANGED_AFTER_MOVE,
  hashes,
  isolateRegistry,
  makeInstance,
  startSecondCluster,
  type TestInstance,
  withStorage,
} from './move-fixtures.js';

isolateRegistry('move-pairs');

interface Case {
  from: Engine;
  to: Engine | 'postgres2';
  /** A few pairs go through the real CLI; the rest call the same service in-process (faster). */
  viaCli?: boolean;
}

const cases: Case[] = [];
for (const from of ENGINES)
  for (const to of ENGINES) cases.push({ from, to, viaCli: from !== to && to === 'postgres' });
if (ENGINES.includes('postgres')) {
  cases.push({ from: 'sqlite', to: 'postgres2' }, { from: 'postgres', to: 'postgres2', viaCli: true });
}

describe('cuttle database move: every engine pair', { concurrency: 3 }, () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  let pg2: { port: number; stop: () => void } | undefined;
  before(async () => {
    if (cases.some((c) => c.to === 'postgres2')) pg2 = await startSecondCluster();
  });
  after(async () => {
    for (const c of cleanup) await Promise.resolve(c()).catch(() => {});
    pg2?.stop();
  });

  function targetFor(to: Case['to']): TestDatabase {
    if (to !== 'postgres2') return testDatabase(to, `mv${to}`);
    const t = testDatabase('postgres', 'mvpg2');
    const target = { ...(t.target as ServerTarget), port: pg2!.port };
    return {
      ...t,
      target,
      connectionString: `postgres://postgres@127.0.0.1:${pg2!.port}/${target.database}`,
    };
  }

  for (const c of cases) {
    it(`${c.from} -> ${c.to}`, async () => {
      const ti: TestInstance = await makeInstance(c.from, `mp${c.from}`, {
        rowsPerTable: 30,
        logChunks: 500,
      });
      const target = targetFor(c.to);
      cleanup.push(() => ti.db.drop());
      if (c.to !== 'postgres2') cleanup.push(() => target.drop());
      const before = await hashes(ti.db.target);
      const key = ti.inst().key;

      if (c.viaCli) {
        // Through the real CLI: exit code, summary, downtime, and no secret in the output.
        const r = await runCli([
          'database',
          'move',
          '--instance',
          ti.name,
          '--to',
          target.connectionString,
          '--yes',
        ]);
        assert.equal(r.code, 0, r.all);
        assert.match(r.stdout, /every table verified/);
        assert.match(r.stdout, /Total downtime \(maintenance on to off\): [\d.]+ s/);
        assert.ok(!r.all.includes(key.toBase64()), 'the master key is never printed');
      } else {
        const r = await moveDatabase(ti.inst(), { to: target.connectionString, yes: true }, silentProgress);
        assert.equal(r.tables.length, TABLES.length);
        assert.ok((r.downtimeMs ?? -1) >= 0);
      }

      // Same content on both sides (the three tables the finish touches are checked row by row below).
      const afterSource = await hashes(ti.db.target);
      const moved = await hashes(target.target);
      for (const [name, sha] of before) {
        if (CHANGED_AFTER_MOVE.has(name)) continue;
        assert.equal(moved.get(name), sha, `${name}: target hash equals source hash`);
        assert.equal(afterSource.get(name), sha, `${name}: the source is unchanged`);
      }

      // The instance config points at the new database; `database check` is ok there.
      const inst = ti.inst();
      assert.ok(sameDatabase(inst.target, target.target), 'config points at the new database');
      const report = await checkDatabase(inst.target, inst.key);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.canary, 'ok');

      // The new database: maintenance off, no fence, no move marker, same instance id, secrets decrypt.
      await withStorage(target.target, async (s) => {
        assert.equal((await getMaintenance(s.db)).IsInMaintenanceMode, false);
        assert.equal(await getMeta(s.db, META.fence), undefined);
        assert.equal(await getMeta(s.db, 'move-in-progress'), undefined);
        const secret = await s.db
          .selectFrom('variables')
          .select(['value'])
          .where('is_sensitive', '=', true)
          .orderBy('id')
          .executeTakeFirstOrThrow();
        assert.match(open(key, secret.value!), /^secret-value-\d+$/);
        const logs = await s.db
          .selectFrom('task_log_chunks')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst();
        assert.equal(Number(logs?.n), 500);
      });
      await withStorage(ti.db.target, async (s) => {
        const id = await getMeta(s.db, META.instanceId);
        await withStorage(target.target, async (t) => assert.equal(await getMeta(t.db, META.instanceId), id));
        // Every event of the old database is in the new one, unchanged.
        const oldEvents = await s.db.selectFrom('events').selectAll().orderBy('id').execute();
        const newEvents = await withStorage(target.target, (t) =>
          t.db.selectFrom('events').selectAll().orderBy('id').execute(),
        );
        const byId = new Map(newEvents.map((e) => [e.id, JSON.stringify(e)]));
        for (const e of oldEvents) assert.equal(byId.get(e.id), JSON.stringify(e));
      });

      // The old database is fenced, and says where the instance went.
      await assert.rejects(openCheckedStorage(ti.db.target, key), (err: Error) => {
        assert.match(err.message, /fenced/);
        assert.ok(err.message.includes(describeTarget(target.target)), err.message);
        return true;
      });
    });
  }
});
