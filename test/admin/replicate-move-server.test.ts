import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { restoreBackup } from '../../src/admin/backup/backup-restore.js';
import { liveNodes } from '../../src/admin/home/running-service.js';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import { retireNode } from '../../src/admin/move-server/retire-node.js';
import type { ReplicaMarker } from '../../src/admin/replicate/make-replica.js';
import { open } from '../../src/crypto/envelope.js';
import { nowIso } from '../../src/lib/clock.js';
import { serviceStatus } from '../../src/server-process/service-status.js';
import { getMeta, getMetaJson, META, setMeta } from '../../src/storage/repositories/metadata-repository.js';
import { markNodeStopped, registerNode } from '../../src/tasks/node-registry.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import {
  type AdminInstance,
  isolateRegistry,
  keyIdsIn,
  makeInstance,
  readSecrets,
  SECRETS,
  seedSecrets,
  withDb,
} from './admin-fixtures.js';

const REGISTRY_OLD = isolateRegistry('replicate-old');
const engine = ENGINES.includes('postgres') ? 'postgres' : ENGINES[0]!;
const PASSPHRASE = 'correct horse battery staple';

async function original(label: string, cleanup: (() => Promise<void>)[]): Promise<AdminInstance> {
  process.env.CUTTLE_REGISTRY = REGISTRY_OLD;
  const ti = await makeInstance(engine, label);
  cleanup.push(() => ti.db.drop());
  const inst = loadInstance({ instance: ti.name });
  await withDb(ti.target(), async (db) => {
    await seedSecrets(db, ti.key());
    await registerNode(db, { nodeId: inst.config.nodeName, taskCap: 5 });
    await db
      .insertInto('server_tasks')
      .values({
        id: 'ServerTasks-1',
        space_id: 'Spaces-1',
        kind: 'Deploy',
        name: 'Deploy',
        description: 'Deploy Payments 1.0.0 to Production',
        state: 'Queued',
        arguments_json: '{}',
        queue_time: nowIso(),
        start_time: null,
        completed_time: null,
        last_updated: nowIso(),
        error_message: null,
        has_warnings_or_errors: false,
        node_id: null,
        lease_until: null,
        attempts: 0,
        cancel_requested: false,
        priority: 0,
        activity_json: '{}',
        change_number: 1,
      })
      .execute();
    await db
      .insertInto('task_log_chunks')
      .values({
        task_id: 'ServerTasks-1',
        seq: 1,
        activity_id: 'a',
        category: 'Info',
        occurred: nowIso(),
        text: 'an old deployment log line',
      })
      .execute();
    await db
      .insertInto('users')
      .values({
        id: 'Users-9',
        username: 'alice',
        username_normalized: 'alice',
        display_name: 'Alice Example',
        email: 'alice@example.com',
        password_hash: 'scrypt$x$y',
        role: 'admin',
        is_active: true,
        is_service: false,
        created: nowIso(),
        change_number: 1,
      })
      .execute();
    await setMeta(db, META.backupSchedule, JSON.stringify({ cron: '0 3 * * *' }));
  });
  fs.mkdirSync(path.join(ti.home, 'artifacts', 'ServerTasks-1'), { recursive: true });
  fs.writeFileSync(path.join(ti.home, 'artifacts', 'ServerTasks-1', 'report.txt'), 'artifact body');
  return ti;
}

async function backup(ti: AdminInstance, database: boolean): Promise<string> {
  const inst = loadInstance({ instance: ti.name });
  const storage = await openInstanceStorage(inst);
  const output = path.join(tempDir('archive'), 'cuttle.backup');
  try {
    await writeBackup({
      storage,
      output,
      instanceName: inst.name,
      config: inst.config,
      key: inst.key,
      passphrase: PASSPHRASE,
      database,
    });
  } finally {
    await storage.close();
  }
  return output;
}

describe(`${engine}: move the server and replicate`, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c().catch(() => {});
  });

  it('move-server round trip: files restored, secrets open, the old node retired by the restore itself and refusing to start', async () => {
    const a = await original('msold', cleanup);
    const aInst = loadInstance({ instance: a.name });
    const archive = await backup(a, false);

    const registryNew = isolateRegistry('replicate-new');
    const homeB = path.join(tempDir('msnew'), 'home');
    const restoreB = () =>
      restoreBackup({
        archive,
        target: aInst.target,
        key: { passphrase: PASSPHRASE },
        instance: 'moved',
        home: homeB,
        database: false,
        nodeName: 'new-server',
      });
    // the old node still sends heartbeats: refused before anything is written
    await assert.rejects(restoreB(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NODE_RUNNING');
      assert.match(err.message, new RegExp(`node "${aInst.config.nodeName}", which is still running`));
      return true;
    });
    assert.equal(fs.existsSync(homeB), false, 'no home written');
    assert.throws(() => loadInstance({ instance: 'moved' }), 'no instance registered');
    assert.equal(
      await withDb(
        aInst.target,
        async (db) =>
          (
            await db
              .selectFrom('server_nodes')
              .select('status')
              .where('id', '=', aInst.config.nodeName)
              .executeTakeFirstOrThrow()
          ).status,
      ),
      'live',
      'the old node untouched',
    );

    await withDb(aInst.target, (db) => markNodeStopped(db, aInst.config.nodeName));
    const r = await restoreB();
    assert.equal(r.tables, 0);
    assert.deepEqual(r.sourceNode, { name: aInst.config.nodeName, outcome: 'retired' });
    const b = loadInstance({ instance: 'moved' });
    assert.equal(b.config.nodeName, 'new-server');
    await assert.rejects(retireNode(b, 'new-server'), /node name of instance "moved" itself/);
    const events = await withDb(aInst.target, (db) =>
      db.selectFrom('events').select(['category', 'message']).where('category', '=', 'NodeRetired').execute(),
    );
    assert.equal(events.length, 1);
    assert.match(events[0]!.message, /the server moved/);

    const storage = await openInstanceStorage(b);
    try {
      const s = await readSecrets(storage.db);
      assert.equal(open(b.key, s.variables.DbPassword!), SECRETS.dbPassword);
      const logs = await storage.db.selectFrom('task_log_chunks').select('text').execute();
      assert.deepEqual(
        logs.map((l) => l.text),
        ['an old deployment log line'],
      );
      await assert.rejects(
        registerNode(storage.db, { nodeId: aInst.config.nodeName, taskCap: 5 }),
        /retired/,
      );
      await registerNode(storage.db, { nodeId: 'new-server', taskCap: 5 });
      assert.deepEqual(
        (await liveNodes(storage.db)).map((n) => n.name),
        ['new-server'],
        'one live node',
      );
      await markNodeStopped(storage.db, 'new-server');
    } finally {
      await storage.close();
    }
    assert.equal(
      fs.readFileSync(path.join(homeB, 'artifacts', 'ServerTasks-1', 'report.txt'), 'utf8'),
      'artifact body',
    );

    const old = await runCli(['run', '--instance', a.name], { env: { CUTTLE_REGISTRY: REGISTRY_OLD } });
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /retired/);
    process.env.CUTTLE_REGISTRY = registryNew;
  });

  it('replicate: new ids, nodes cleared, tasks and schedule off, personal data scrubbed, a key of its own', async () => {
    const a = await original('rpl', cleanup);
    const archive = await backup(a, true);
    const passFile = path.join(tempDir('pass'), 'pass.txt');
    fs.writeFileSync(passFile, `${PASSPHRASE}\n`);
    const replicaDb: TestDatabase = testDatabase(engine, 'replica');
    cleanup.push(() => replicaDb.drop());
    const home = path.join(tempDir('rplhome'), 'home');
    const r = await runCli([
      'replicate',
      '--from-backup',
      archive,
      '--instance',
      'replica',
      '--home',
      home,
      '--storage-connection-string',
      replicaDb.connectionString,
      '--passphrase-file',
      passFile,
      '--new-master-key',
      '--scrub-personal-data',
      '--listen',
      'http://127.0.0.1:18099',
    ]);
    assert.equal(r.code, 0, r.all);
    assert.ok(!r.all.includes(a.key().toBase64()));
    const rep = loadInstance({ instance: 'replica' });
    assert.ok(!r.all.includes(rep.key.toBase64()));
    assert.equal(rep.config.listen, 'http://127.0.0.1:18099');
    assert.notEqual(rep.key.id, a.key().id);

    const [origIds, repIds] = await Promise.all([
      withDb(a.target(), async (db) => [
        await getMeta(db, META.installationId),
        await getMeta(db, META.instanceId),
      ]),
      withDb(rep.target, async (db) => [
        await getMeta(db, META.installationId),
        await getMeta(db, META.instanceId),
      ]),
    ]);
    assert.notEqual(repIds[0], origIds[0], 'installation ids differ');
    assert.notEqual(repIds[1], origIds[1]);
    const status = await serviceStatus({ instance: 'replica' });
    assert.equal(
      status.replicaOf?.from.instanceId,
      origIds[1],
      '`service --status` shows the replica marker',
    );
    assert.equal((await serviceStatus({ instance: a.name })).replicaOf, null);

    await withDb(rep.target, async (db) => {
      assert.equal((await db.selectFrom('server_nodes').selectAll().execute()).length, 0);
      const task = await db
        .selectFrom('server_tasks')
        .selectAll()
        .where('id', '=', 'ServerTasks-1')
        .executeTakeFirstOrThrow();
      assert.equal(task.state, 'Canceled');
      assert.equal(await getMeta(db, META.backupSchedule), undefined);
      const marker = await getMetaJson<ReplicaMarker>(db, META.replica);
      assert.equal(marker?.from.instanceId, origIds[1]);
      assert.equal(marker?.newMasterKey, true);
      const alice = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', 'Users-9')
        .executeTakeFirstOrThrow();
      assert.deepEqual([alice.email, alice.display_name, alice.password_hash], [null, '', null]);
      const s = await readSecrets(db);
      assert.equal(
        open(rep.key, s.variables.DbPassword!),
        SECRETS.dbPassword,
        "the replica's key opens its secrets",
      );
      assert.throws(
        () => open(a.key(), s.variables.DbPassword!),
        /does not match/,
        'the original key opens none',
      );
    });
    assert.deepEqual([...(await keyIdsIn(rep.target)).keys()], [rep.key.id]);
    const orig = await withDb(a.target(), readSecrets);
    assert.equal(open(a.key(), orig.variables.DbPassword!), SECRETS.dbPassword, 'the original is untouched');
    assert.equal(
      createHash('sha256')
        .update(fs.readFileSync(path.join(home, 'artifacts', 'ServerTasks-1', 'report.txt')))
        .digest('hex'),
      createHash('sha256').update('artifact body').digest('hex'),
    );
  });
});
