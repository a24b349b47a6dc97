import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readArchiveHead } from '../../src/admin/backup/archive-head.js';
import { archiveKey } from '../../src/admin/backup/backup-key.js';
import {
  pruneScheduledArchives,
  registerBackupTasks,
  runSchedulerTick,
} from '../../src/admin/backup/backup-task-handler.js';
import { configureInstance } from '../../src/admin/configure.js';
import { createInstance } from '../../src/admin/create-instance.js';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import { sameDatabase } from '../../src/config/connection-string.js';
import { SYSTEM_ACTOR } from '../../src/core/actor.js';
import { addApiKey, createUser, ensureInitialAdmin } from '../../src/core/user-service.js';
import { redactText } from '../../src/lib/redact.js';
import { buildServer } from '../../src/server/build-server.js';
import type { Storage } from '../../src/storage/storage.js';
import { TaskExecutor } from '../../src/tasks/task-executor.js';
import { archiveText } from '../backup/setup.js';
import { type ApiFixture, call } from '../helpers/api-server.js';
import { CLI_ARGS, CLI_ARGS_WITH_FAULTS, runCli } from '../helpers/cli.js';
import { secretPassword } from '../helpers/db-admin.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';

process.env.CUTTLE_REGISTRY = path.join(tempDir('admin-routes-reg'), 'instances.json');

/** What the next move process started over REST gets in its environment besides the server's. */
let nextMoveEnv: Record<string, string> = {};

/**
 * How the servers of this file run the CLI: the real one (their argv[1] is this test file). Extra
 * variables go through env(1), which execs the CLI with the same pid; a move that is to meet a
 * fault (CUTTLE_MOVE_FAULT, fault-injector.ts) gets the fault preload too.
 */
function testCliCommand(args: string[]): [string, string[]] {
  const extra = Object.entries(nextMoveEnv).map(([k, v]) => `${k}=${v}`);
  const cli = nextMoveEnv.CUTTLE_MOVE_FAULT ? CLI_ARGS_WITH_FAULTS : CLI_ARGS;
  nextMoveEnv = {};
  if (!extra.length) return [process.execPath, [...cli, ...args]];
  return ['env', [...extra, process.execPath, ...cli, ...args]];
}

const WITH_PG = ENGINES.includes('postgres');

/** A server (inject) on a real instance: config and key file in its home, SQLite database. */
async function instanceApi(label: string): Promise<ApiFixture & { name: string; instHome: string }> {
  const home = tempDir(`${label}-home`);
  const name = `${label}-${process.pid}`;
  await createInstance({ name, home, connectionString: `sqlite:${path.join(home, 'cuttle.db')}` });
  const inst = loadInstance({ instance: name });
  const storage: Storage = await openInstanceStorage(inst);
  const app = await buildServer({
    storage,
    key: inst.key,
    home,
    nodeId: 'test-node',
    isDraining: () => false,
    cliCommand: testCliCommand,
  });
  const admin = await ensureInitialAdmin(storage.db);
  if (!admin) throw new Error('no initial admin');
  const deployer = await createUser(storage.db, SYSTEM_ACTOR, { username: 'deployer', role: 'deployer' });
  const { key: deployerKey } = await addApiKey(storage.db, SYSTEM_ACTOR, deployer.id, 'test');
  return {
    engine: 'sqlite',
    app,
    storage,
    key: inst.key,
    home,
    instHome: home,
    name,
    adminKey: admin.apiKey,
    deployerKey,
    draining: { value: false },
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

describe('administrator REST endpoints: backups and database move', () => {
  let fx: Awaited<ReturnType<typeof instanceApi>>;
  let executor: TaskExecutor;
  const dbs: TestDatabase[] = [];
  before(async () => {
    fx = await instanceApi('adminroutes');
    registerBackupTasks();
    executor = new TaskExecutor({
      storage: fx.storage,
      key: fx.key,
      home: fx.home,
      nodeId: 'test-node',
      taskCap: 2,
      pollMs: 200,
    });
    await executor.start();
  });
  after(async () => {
    await executor?.stop({ abortRunning: true });
    await fx?.close();
    for (const d of dbs) await d.drop().catch(() => {});
  });

  const taskDone = (id: string) =>
    waitFor(`task ${id}`, async () => {
      const r = await call(fx, 'GET', `/api/tasks/${id}`);
      return r.body.IsCompleted ? r.body : undefined;
    });

  it('refuses deployers with 403 on every admin endpoint', async () => {
    const routes: [string, string, unknown?][] = [
      ['POST', '/api/admin/backups', {}],
      ['GET', '/api/admin/backups'],
      ['POST', '/api/admin/backups/verify', { File: 'x.tar.gz' }],
      ['GET', '/api/admin/backups/schedule'],
      ['PUT', '/api/admin/backups/schedule', { Schedule: 'daily 02:00' }],
      ['POST', '/api/admin/database-move', { To: 'postgres://u:pw@127.0.0.1/x', DryRun: true }],
      ['GET', '/api/admin/database-move'],
      ['GET', '/api/admin/database-move/move-20250101T000000-abcdef'],
    ];
    for (const [method, url, body] of routes) {
      const r = await call(fx, method as 'GET', url, body, fx.deployerKey);
      assert.equal(r.status, 403, `${method} ${url}: ${r.text}`);
      assert.match(r.body.ErrorMessage, /administrator role/);
      assert.ok(Array.isArray(r.body.Errors));
      const anon = await call(fx, method as 'GET', url, body, null);
      assert.equal(anon.status, 401, `${method} ${url} without a key`);
    }
    assert.equal((await call(fx, 'GET', '/api/tasks?take=100')).body.TotalResults, 0, 'nothing was queued');
  });

  it('POST /api/admin/backups queues a Backup task that writes a verified archive and an event', async () => {
    const r = await call(fx, 'POST', '/api/admin/backups', {});
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.Name, 'Backup');
    assert.match(r.body.Id, /^ServerTasks-\d+$/);
    assert.match(r.body.State, /Queued|Executing/);
    const task = await taskDone(r.body.Id);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const raw = await call(fx, 'GET', `/api/tasks/${r.body.Id}/raw`);
    assert.match(raw.text, /Backup written: .*cuttle-adminroutes-.*\.tar\.(gz|zst)/);

    const list = await call(fx, 'GET', '/api/admin/backups');
    assert.equal(list.status, 200);
    assert.equal(list.body.Folder, path.join(fx.home, 'backups'));
    assert.equal(list.body.TotalResults, 1);
    const a = list.body.Items[0];
    assert.equal(a.Complete, true);
    assert.equal(a.Readable, true);
    assert.equal(a.Scheduled, false);
    assert.ok(a.Bytes > 0);

    const v = await call(fx, 'POST', '/api/admin/backups/verify', { File: a.File });
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.Ok, true, JSON.stringify(v.body.Problems));
    assert.match(v.body.MasterKey, /^ok/);
    assert.equal(v.body.ChecksFailed, 0);
    assert.ok(
      v.body.Tables.some((t: { Name: string; Rows: number }) => t.Name === 'server_tasks' && t.Rows >= 1),
    );

    const events = await waitFor('BackupSucceeded', async () => {
      const e = await call(fx, 'GET', `/api/events?regarding=${r.body.Id}&take=20`);
      return e.body.Items.some((x: { Category: string }) => x.Category === 'BackupSucceeded') ? e : undefined;
    });
    assert.ok(events.body.Items.length >= 1);

    // Only archives in the backups folder can be named.
    const outside = await call(fx, 'POST', '/api/admin/backups/verify', { File: '../cuttle.config.json' });
    assert.equal(outside.status, 400, outside.text);
    const missing = await call(fx, 'POST', '/api/admin/backups/verify', { File: 'nope.tar.gz' });
    assert.equal(missing.status, 404, missing.text);
    // A damaged archive is reported, not thrown as a 500.
    const bad = path.join(fx.home, 'backups', 'damaged.tar.gz');
    fs.writeFileSync(bad, fs.readFileSync(a.Path).subarray(0, 200));
    const dmg = await call(fx, 'POST', '/api/admin/backups/verify', { File: 'damaged.tar.gz' });
    assert.ok(dmg.status >= 400 && dmg.status < 500, `${dmg.status} ${dmg.text}`);
    assert.match(dmg.body.ErrorMessage, /damaged/);
    fs.rmSync(bad);
  });

  it('the schedule: set over REST, one claim per due time, scheduled archives pruned to the retention', async () => {
    const bad = await call(fx, 'PUT', '/api/admin/backups/schedule', { Schedule: 'sometimes' });
    assert.equal(bad.status, 400, bad.text);
    const put = await call(fx, 'PUT', '/api/admin/backups/schedule', {
      Schedule: 'daily 02:00',
      Retention: 2,
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.Schedule, 'daily 02:00');
    assert.equal(put.body.Retention, 2);
    assert.match(put.body.NextRun, /T02:00:00\.000Z$/);

    // Three older scheduled archives already there; the run keeps the newest two.
    const dir = path.join(fx.home, 'backups');
    for (const d of ['20200101', '20200102', '20200103'])
      fs.writeFileSync(path.join(dir, `cuttle-adminroutes-${d}T020000Z-scheduled.tar.gz`), 'old');
    const due = new Date(Date.parse(put.body.NextRun) + 1000);
    // Two nodes' ticks at the same instant: exactly one claims the run and queues the task.
    const ticks = await Promise.all([
      runSchedulerTick(fx.storage.db, due),
      runSchedulerTick(fx.storage.db, due),
    ]);
    const ids = ticks.filter((t): t is string => !!t);
    assert.equal(ids.length, 1, `one task queued, got ${JSON.stringify(ticks)}`);
    assert.equal(await runSchedulerTick(fx.storage.db, due), undefined, 'not due again');
    const task = await taskDone(ids[0]!);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const shown = await call(fx, 'GET', '/api/admin/backups/schedule');
    assert.equal(shown.body.LastTaskId, ids[0]);
    assert.ok(Date.parse(shown.body.NextRun) > due.getTime());

    const list = await call(fx, 'GET', '/api/admin/backups');
    const scheduled = list.body.Items.filter((x: { Scheduled: boolean }) => x.Scheduled);
    assert.equal(scheduled.length, 2, JSON.stringify(list.body.Items.map((x: { File: string }) => x.File)));
    assert.ok(scheduled.some((x: { File: string }) => x.File.includes('20200103')));
    assert.ok(!scheduled.some((x: { File: string }) => /2020010[12]/.test(x.File)));
    assert.equal(
      list.body.Items.filter((x: { Scheduled: boolean }) => !x.Scheduled).length,
      1,
      'manual kept',
    );
    assert.deepEqual(pruneScheduledArchives(dir, 5), []);

    const off = await call(fx, 'PUT', '/api/admin/backups/schedule', { Schedule: null });
    assert.equal(off.body.Schedule, null);
    assert.equal(await runSchedulerTick(fx.storage.db, new Date('2100-01-01T00:00:00Z')), undefined);
  });

  it('configure --backup-passphrase-file: Backup tasks (REST and scheduled alike) seal the master key; an unreadable file fails the backup loudly', async () => {
    const dir = path.join(fx.home, 'backups');
    const before = new Set(fs.readdirSync(dir));
    const passFile = path.join(tempDir('backup-pass'), 'passphrase');
    const passphrase = `pass-${secretPassword()}`;
    fs.writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    const short = path.join(path.dirname(passFile), 'short');
    fs.writeFileSync(short, 'short\n');
    // checked when it is configured, not first at 02:00 (and the refused passphrase is not
    // masked inside the words of the message: "shorter" stays whole)
    await assert.rejects(
      configureInstance(loadInstance({ instance: fx.name }), { backupPassphraseFile: short }),
      /shorter than 8 characters/,
    );
    assert.equal(
      redactText('The passphrase is shorter than 8 characters.'),
      'The passphrase is shorter than 8 characters.',
    );
    // the CLI flag, in Octopus's camelCase spelling
    const set = await runCli(['configure', '--instance', fx.name, `--backupPassphraseFile=${passFile}`]);
    assert.equal(set.code, 0, set.all);
    assert.equal(loadInstance({ instance: fx.name }).config.backupPassphraseFile, passFile);
    assert.match((await runCli(['show-configuration', '--instance', fx.name])).stdout, new RegExp(passFile));

    const r = await call(fx, 'POST', '/api/admin/backups', {});
    const task = await taskDone(r.body.Id);
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const raw = await call(fx, 'GET', `/api/tasks/${r.body.Id}/raw`);
    assert.match(raw.text, /sealed in the archive's key bundle/);
    assert.ok(!raw.text.includes(passphrase), 'the passphrase is not in the task log');
    const written = fs.readdirSync(dir).filter((f) => !before.has(f));
    assert.equal(written.length, 1, written.join(', '));
    const head = await readArchiveHead(path.join(dir, written[0]!));
    assert.ok(head?.keyBundle, 'the archive holds a key bundle');
    // the bundle opens with the passphrase alone and proves the instance's key
    const key = await archiveKey(head, { passphrase });
    assert.equal(key.id, fx.key.id);
    assert.ok(!archiveText(path.join(dir, written[0]!)).includes(passphrase), 'not in the archive');
    const succeeded = await call(fx, 'GET', `/api/events?regarding=${r.body.Id}&take=20`);
    const event = succeeded.body.Items.find((x: { Category: string }) => x.Category === 'BackupSucceeded');
    assert.equal(JSON.parse(event.Details).KeyBundle, true);
    assert.ok(!succeeded.text.includes(passphrase), 'not in the events');

    // `backup create` on the command line takes the instance's passphrase file too
    const cliArchive = path.join(tempDir('backup-pass-cli'), 'cli.tar.zst');
    const created = await runCli(['backup', 'create', '--instance', fx.name, '--output', cliArchive]);
    assert.equal(created.code, 0, created.all);
    assert.match(created.stdout, /sealed in the archive with the passphrase/);
    assert.ok(!created.all.includes(passphrase), 'the passphrase is not printed');
    assert.equal((await archiveKey((await readArchiveHead(cliArchive))!, { passphrase })).id, fx.key.id);

    // the file gone: the backup fails and says which file, with an event; nothing is written
    fs.rmSync(passFile);
    const cliFailed = await runCli([
      'backup',
      'create',
      '--instance',
      fx.name,
      '--output',
      `${cliArchive}.2`,
    ]);
    assert.equal(cliFailed.code, 2, cliFailed.all);
    assert.match(cliFailed.all, /does not exist[\s\S]*configure --backup-passphrase-file/);
    assert.ok(!fs.existsSync(`${cliArchive}.2`));
    const r2 = await call(fx, 'POST', '/api/admin/backups', {});
    const failed = await taskDone(r2.body.Id);
    assert.equal(failed.State, 'Failed');
    assert.match(failed.ErrorMessage, /passphrase file .*passphrase does not exist/);
    const failedLog = await call(fx, 'GET', `/api/tasks/${r2.body.Id}/raw`);
    assert.match(
      failedLog.text,
      /configure --backup-passphrase-file/,
      'the log says where the file comes from',
    );
    const events = await call(fx, 'GET', `/api/events?regarding=${r2.body.Id}&take=20`);
    assert.ok(events.body.Items.some((x: { Category: string }) => x.Category === 'BackupFailed'));
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => !before.has(f)),
      written,
      'no archive from the failed run',
    );

    const off = await runCli(['configure', '--instance', fx.name, '--no-backup-passphrase-file']);
    assert.equal(off.code, 0, off.all);
    assert.equal(loadInstance({ instance: fx.name }).config.backupPassphraseFile, undefined);
    assert.match(
      (await runCli(['show-configuration', '--instance', fx.name])).stdout,
      /Backup passphrase file +none/,
    );
    for (const f of written) fs.rmSync(path.join(dir, f));
  });

  it('POST /api/admin/database-move DryRun returns the plan and never echoes the password', {
    skip: !WITH_PG,
  }, async () => {
    const target = testDatabase('postgres', 'restmovedry');
    dbs.push(target);
    const pw = secretPassword();
    const cs = target.connectionString.replace('postgres@', `postgres:${pw}@`);
    const r = await call(fx, 'POST', '/api/admin/database-move', { To: cs, DryRun: true });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(pw), 'no password in the answer');
    assert.equal(r.body.DryRun, true);
    assert.equal(r.body.State, 'Planned', JSON.stringify(r.body.Plan.Problems));
    assert.match(r.body.Plan.SourceEngine, /sqlite/i);
    assert.match(r.body.Plan.Target, /^postgres:\/\/postgres:\*\*\*@/);
    assert.ok(r.body.Plan.Tables.length > 10);
    assert.ok(r.body.Plan.Steps.length >= 5);

    // Onto the database it already uses: refused with a reason, nothing started.
    const same = await call(fx, 'POST', '/api/admin/database-move', {
      To: `sqlite:${path.join(fx.home, 'cuttle.db')}`,
    });
    assert.ok(same.status >= 400 && same.status < 500, same.text);
    assert.ok(same.body.ErrorMessage);
    const bogus = await call(fx, 'GET', '/api/admin/database-move/move-nope');
    assert.equal(bogus.status, 404);
    const traversal = await call(fx, 'GET', '/api/admin/database-move/..%2F..%2Fcuttle');
    assert.equal(traversal.status, 404);
  });

  it('POST /api/admin/database-move runs the CLI move detached; GET reports its journal and log', {
    skip: !WITH_PG,
  }, async () => {
    const target = testDatabase('postgres', 'restmove');
    dbs.push(target);
    const pw = secretPassword();
    const cs = target.connectionString.replace('postgres@', `postgres:${pw}@`);
    const r = await call(fx, 'POST', '/api/admin/database-move', { To: cs });
    assert.equal(r.status, 202, r.text);
    assert.ok(!r.text.includes(pw));
    assert.match(r.body.Id, /^move-/);
    assert.equal(r.body.Links.Self, `/api/admin/database-move/${r.body.Id}`);
    const status = await waitFor(
      'the move to end',
      async () => {
        const s = await call(fx, 'GET', `/api/admin/database-move/${r.body.Id}`);
        assert.equal(s.status, 200, s.text);
        return s.body.IsCompleted ? s : undefined;
      },
      90_000,
    );
    assert.ok(!status.text.includes(pw), 'no password in the progress');
    assert.equal(status.body.State, 'Success', `${status.body.ErrorMessage}\n${status.body.Log.join('\n')}`);
    assert.equal(status.body.Phase, 'done');
    assert.deepEqual(
      [status.body.FailedPhase, status.body.ErrorKind, status.body.ErrorCode],
      [null, null, null],
    );
    assert.equal(status.body.TablesCopied, status.body.TablesTotal);
    assert.equal(status.body.TablesVerified, status.body.TablesTotal);
    assert.ok(
      status.body.Log.some((l: string) => /every table verified/.test(l)),
      status.body.Log.join('\n'),
    );
    const log = fs.readFileSync(path.join(fx.home, 'logs', `${r.body.Id}.log`), 'utf8');
    assert.ok(!log.includes(pw), 'no password in the log file');
    assert.ok(
      sameDatabase(loadInstance({ instance: fx.name }).target, target.target),
      'config points at the new database',
    );
  });
});

describe('database move over REST: a failed move, from its journal', () => {
  let fx: Awaited<ReturnType<typeof instanceApi>>;
  const dbs: TestDatabase[] = [];
  before(async () => {
    fx = await instanceApi('restmovefail');
  });
  after(async () => {
    await fx?.close();
    for (const d of dbs) await d.drop().catch(() => {});
  });

  /** Starts a move over REST whose process gets `env`, and waits until its state says it ended. */
  async function failedMove(env: Record<string, string>, label: string) {
    const target = testDatabase('sqlite', label);
    dbs.push(target);
    nextMoveEnv = env;
    const r = await call(fx, 'POST', '/api/admin/database-move', { To: target.connectionString });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.State, 'Executing');
    const done = await waitFor(
      `the move ${r.body.Id} to end`,
      async () => {
        const s = await call(fx, 'GET', `/api/admin/database-move/${r.body.Id}`);
        assert.equal(s.status, 200, s.text);
        return s.body.IsCompleted ? s.body : undefined;
      },
      90_000,
    );
    return { id: r.body.Id as string, status: done };
  }

  it('a verification failure: Failed in its phase, with the error recorded by the move; nothing changed', async () => {
    const { id, status } = await failedMove({ CUTTLE_MOVE_FAULT: 'corrupt:events' }, 'restcorrupt');
    assert.equal(status.State, 'Failed');
    assert.equal(status.Phase, 'verify');
    assert.equal(status.FailedPhase, 'verify');
    assert.equal(status.ErrorKind, 'runtime');
    assert.match(status.ErrorMessage, /^Verification failed for table events: .*first difference at id=/);
    assert.ok(
      sameDatabase(loadInstance({ instance: fx.name }).target, fx.storage.target),
      'config unchanged',
    );
    // the CLI door reads the same journal
    const cli = await runCli(['database', 'move', '--instance', fx.name, '--status', id, '--format', 'json']);
    assert.equal(cli.code, 0, cli.all);
    const s = JSON.parse(cli.stdout);
    assert.deepEqual(
      [s.state, s.failure.phase, s.failure.kind, s.failure.message],
      ['failed', 'verify', 'runtime', status.ErrorMessage],
    );
  });

  it('a move process killed (SIGKILL) mid-move: Failed, naming the phase it ended in and how to go on', async () => {
    const { id, status } = await failedMove({ CUTTLE_MOVE_FAULT: 'after-schema' }, 'restkilled');
    assert.equal(status.State, 'Failed');
    assert.equal(status.Phase, 'copy');
    assert.equal(status.FailedPhase, 'copy');
    assert.equal(status.ErrorCode, 'MOVE_PROCESS_ENDED');
    assert.equal(
      status.ErrorMessage,
      'The move process ended during copy without finishing; `cuttle database move --resume` continues it.',
    );
    // newest first, the killed one above the one that failed verification
    const list = await call(fx, 'GET', '/api/admin/database-move');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.ItemType, 'DatabaseMove');
    assert.equal(list.body.TotalResults, 2);
    assert.deepEqual(
      list.body.Items.map((m: { State: string; FailedPhase: string }) => [m.State, m.FailedPhase]),
      [
        ['Failed', 'copy'],
        ['Failed', 'verify'],
      ],
    );
    assert.equal(list.body.Items[0].Id, id);
  });

  it('a move refused by the preflight of its own process (before it has a journal): Failed in preflight, with its kind', async () => {
    // the server's preflight passed; the move process is handed the database the instance uses
    const source = `sqlite:${path.join(fx.home, 'cuttle.db')}`;
    const { status } = await failedMove({ CUTTLE_MOVE_TO: source }, 'restrefused');
    assert.equal(status.State, 'Failed');
    assert.equal(status.Phase, 'preflight');
    assert.equal(status.FailedPhase, 'preflight');
    assert.equal(status.ErrorKind, 'precondition');
    assert.equal(status.ErrorMessage, 'Preflight found 1 problem(s); nothing was changed.');
    assert.ok(
      status.Log.some((l: string) => /the database the instance uses now/.test(l)),
      status.Log.join('\n'),
    );
  });
});
