import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { restoreBackup } from '../../src/admin/backup/backup-restore.js';
import { readAndVerify } from '../../src/admin/backup/backup-verify.js';
import { writeCanary } from '../../src/admin/master-key-canary.js';
import { SYSTEM_ACTOR } from '../../src/core/actor.js';
import { registerCoreHandlers } from '../../src/core/register-core-handlers.js';
import { taskRawLog } from '../../src/core/task-view-service.js';
import { addApiKey, createUser } from '../../src/core/user-service.js';
import { open } from '../../src/crypto/envelope.js';
import { writeKeyFile } from '../../src/crypto/key-source.js';
import { buildServer } from '../../src/server/build-server.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import type { ActivityNode } from '../../src/tasks/activity-tree.js';
import { TaskExecutor } from '../../src/tasks/task-executor.js';
import { type ApiFixture, call, seedProject, startApi, waitForTask } from '../helpers/api-server.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * `backup create` while deployments run (a real executor running bash steps on the fixture's
 * database): the archive verifies, every finished task in it has its whole log, counts match the
 * manifest; restored onto another engine, a new deployment succeeds and secrets still decrypt.
 */
const SOURCE = 'sqlite' as const;
const TARGET = ENGINES.includes('postgres') ? 'postgres' : ENGINES.includes('mysql') ? 'mysql' : 'sqlite';
const SECRET = 'live-Secret-ValuE-42';
const LINES = 4;
const OK_SCRIPT = `for i in $(seq 1 ${LINES}); do echo "line-$i of #{Octopus.Environment.Name}"; sleep 0.2; done; echo "token=#{Token}"; echo finished-marker`;
const FAIL_SCRIPT = `for i in $(seq 1 ${LINES}); do echo "line-$i"; sleep 0.2; done; echo failing-now; exit 3`;
const TERMINAL = ['Success', 'Failed', 'Canceled', 'TimedOut'];

async function count(s: Storage, table: string): Promise<number> {
  const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(s.db);
  return Number(r.rows[0]!.n);
}

describe('backup create while deployments are running', () => {
  let fx: ApiFixture;
  let executor: TaskExecutor;
  const cleanup: (() => Promise<unknown>)[] = [];
  before(async () => {
    fx = await startApi(SOURCE, 'bklive');
    await writeCanary(fx.storage.db, fx.key);
    registerCoreHandlers();
    executor = new TaskExecutor({
      storage: fx.storage,
      key: fx.key,
      home: fx.home,
      nodeId: 'live-node',
      taskCap: 4,
      pollMs: 100,
    });
    await executor.start();
  });
  after(async () => {
    await executor?.stop({ abortRunning: true });
    await fx?.close();
    for (const c of cleanup) await c().catch(() => {});
  });

  it('archives a consistent instant and restores onto another engine', async () => {
    const ok = await seedProject(fx, 'LiveOk', OK_SCRIPT);
    const put = await call(fx, 'PUT', `/api/Spaces-1/projects/${ok.projectId}/variables`, {
      Variables: [{ Name: 'Token', Value: SECRET, IsSensitive: true, Type: 'Sensitive' }],
    });
    assert.equal(put.status, 200, put.text);
    const bad = await seedProject(fx, 'LiveFail', FAIL_SCRIPT);
    // Two deployments that run until the backup is written, so some surely run across it.
    const go = path.join(tempDir('bklive-go'), 'go');
    const held = await seedProject(
      fx,
      'LiveHeld',
      `while [ ! -f ${go} ]; do sleep 0.1; done; echo held-done`,
    );
    const heldRelease = (
      await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'LiveHeld' })
    ).body;
    const heldIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dep = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        ProjectName: 'LiveHeld',
        ReleaseVersion: heldRelease.ReleaseVersion,
        EnvironmentNames: [held.envName],
      });
      assert.ok(dep.status === 200 || dep.status === 201, dep.text);
      heldIds.push(dep.body.DeploymentServerTasks[0].ServerTaskId);
    }
    const releases = {
      ok: (await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'LiveOk' })).body,
      bad: (await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'LiveFail' })).body,
    };
    const taskIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const failing = i % 5 === 4;
      const dep = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        ProjectName: failing ? 'LiveFail' : 'LiveOk',
        ReleaseVersion: (failing ? releases.bad : releases.ok).ReleaseVersion,
        EnvironmentNames: [failing ? bad.envName : ok.envName],
      });
      assert.ok(dep.status === 200 || dep.status === 201, dep.text);
      taskIds.push(dep.body.DeploymentServerTasks[0].ServerTaskId);
    }

    // Take the backup in the middle: some tasks finished, some running, some queued.
    const states = async () =>
      (await fx.storage.db.selectFrom('server_tasks').select(['id', 'state']).execute()).map((r) => r.state);
    let seen: string[] = [];
    await waitFor(
      () => `a mid-run moment (states: ${seen.join(',')})`,
      async () => {
        seen = await states();
        return seen.filter((x) => TERMINAL.includes(x)).length >= 3 && seen.includes('Executing');
      },
    );
    const dir = tempDir('bklive-out');
    const output = path.join(dir, 'live.tar.gz');
    const backup = await writeBackup({ storage: fx.storage, output, instanceName: 'bklive', key: fx.key });
    const atBackupEnd = await states();
    assert.ok(
      atBackupEnd.some((x) => !TERMINAL.includes(x)),
      'deployments were still running after the backup',
    );
    fs.writeFileSync(go, '');

    // The archive verifies, and its counts are the manifest's.
    const contents = await readAndVerify(output);
    assert.deepEqual(contents.problems, []);
    assert.equal(contents.manifest.totals.rows, backup.manifest.totals.rows);

    // Restore onto another engine (the master key from a file: the archive holds no key bundle).
    const target: TestDatabase = testDatabase(TARGET, 'bklivedst');
    cleanup.push(() => target.drop());
    const keyFile = path.join(dir, 'master.key');
    writeKeyFile(keyFile, fx.key);
    const restored = await restoreBackup({
      archive: output,
      target: target.target,
      key: { masterKeyFile: keyFile },
    });
    assert.equal(restored.rows, backup.manifest.totals.rows);

    const storage = await openStorage(target.target);
    cleanup.push(() => storage.close());
    for (const t of backup.manifest.tables)
      assert.equal(await count(storage, t.name), t.rows, `${t.name} count`);
    assert.equal(backup.manifest.tables.length, TABLES.length);

    // Every finished task in the archive has its whole log, consistent with its activity tree.
    const tasks = await storage.db
      .selectFrom('server_tasks')
      .selectAll()
      .where('id', 'in', taskIds)
      .execute();
    assert.equal(tasks.length, 20);
    const finished = tasks.filter((t) => t.state === 'Success' || t.state === 'Failed');
    assert.ok(finished.length >= 3, `finished in the archive: ${finished.length}`);
    assert.ok(finished.some((t) => t.state === 'Success'));
    for (const t of finished) {
      const chunks = await storage.db
        .selectFrom('task_log_chunks')
        .selectAll()
        .where('task_id', '=', t.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        chunks.map((c) => Number(c.seq)),
        chunks.map((_, i) => i),
        `${t.id}: log chunks without a gap`,
      );
      const activities = JSON.parse(t.activity_json) as ActivityNode[];
      const ids = new Set([t.id, ...activities.map((a) => a.Id)]);
      for (const c of chunks)
        assert.ok(ids.has(c.activity_id), `${t.id}: chunk of unknown activity ${c.activity_id}`);
      for (const a of activities) assert.notEqual(a.Status, 'Running', `${t.id}: ${a.Name} still running`);
      const raw = await taskRawLog(storage.db, t.id);
      for (let i = 1; i <= LINES; i++) assert.match(raw, new RegExp(`line-${i}\\b`), `${t.id} line-${i}`);
      if (t.state === 'Success') {
        assert.match(raw, /finished-marker/, `${t.id}: the end of its log`);
        assert.match(raw, /token=\*+/);
      } else assert.match(raw, /failing-now[\s\S]*exit code 3/, `${t.id}: the end of its log`);
      assert.ok(!raw.includes(SECRET), 'the secret never reached the log');
    }

    // The restored instance deploys, and the sensitive value still decrypts there.
    const row = await storage.db
      .selectFrom('variables')
      .select('value')
      .where('name', '=', 'Token')
      .executeTakeFirstOrThrow();
    assert.equal(open(fx.key, row.value!), SECRET);
    const home = tempDir('bklive-restored');
    const app = await buildServer({
      storage,
      key: fx.key,
      home,
      nodeId: 'restored',
      isDraining: () => false,
    });
    cleanup.unshift(() => app.close());
    const admin = await createUser(storage.db, SYSTEM_ACTOR, {
      username: 'after-restore',
      role: 'administrator',
    });
    const { key: apiKey } = await addApiKey(storage.db, SYSTEM_ACTOR, admin.id, 'test');
    const rx = { ...fx, app, storage, home, adminKey: apiKey } as ApiFixture;
    const exec2 = new TaskExecutor({
      storage,
      key: fx.key,
      home,
      nodeId: 'restored',
      taskCap: 2,
      pollMs: 100,
    });
    await exec2.start();
    cleanup.unshift(() => exec2.stop({ abortRunning: true }));
    const rel = await call(rx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'LiveOk' });
    assert.ok(rel.status === 200 || rel.status === 201, rel.text);
    const dep = await call(rx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
      ProjectName: 'LiveOk',
      ReleaseVersion: rel.body.ReleaseVersion,
      EnvironmentNames: [ok.envName],
    });
    assert.ok(dep.status === 200 || dep.status === 201, dep.text);
    const newTask = dep.body.DeploymentServerTasks[0].ServerTaskId;
    const task = await waitForTask(rx, newTask, 60_000);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const raw = await call(rx, 'GET', `/api/tasks/${newTask}/raw`);
    assert.match(raw.text, /token=\*+/);
    assert.match(raw.text, /finished-marker/);

    // Let the source's deployments end before the fixture closes.
    for (const id of [...heldIds, ...taskIds]) await waitForTask(fx, id, 60_000);
  });
});
