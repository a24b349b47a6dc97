import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { MasterKey } from '../../src/crypto/master-key.js';
import { onTaskStateChange, registerTaskHandler } from '../../src/tasks/handler-registry.js';
import { runScript } from '../../src/tasks/script-runner.js';
import { TaskExecutor } from '../../src/tasks/task-executor.js';
import { enqueueTask, requestCancel } from '../../src/tasks/task-queue.js';
import type { TaskContext } from '../../src/tasks/task-types.js';
import { ENGINES, tempDir } from '../helpers/engines.js';
import { first, nextEvent, waitFor } from '../helpers/wait-for.js';
import { openTestStorage, pidAlive, type TestStorage } from './task-test-helpers.js';

/** A test handler that runs a real bash script, the way the deployment handler does. */
async function scriptHandler(ctx: TaskContext) {
  const args = ctx.task.arguments as { script: string; secret?: string; timeoutMs?: number };
  if (args.secret) ctx.log.mask([args.secret]);
  ctx.activities.start('step-1', 'Run a script');
  const workDir = path.join(ctx.home, 'work', ctx.task.id);
  const r = await runScript({
    syntax: 'Bash',
    body: args.script,
    workDir,
    env: args.secret ? { SECRET: args.secret } : {},
    signal: ctx.signal,
    timeoutMs: args.timeoutMs,
    onLine: (stream, line) => ctx.log.write(stream === 'stderr' ? 'Error' : 'Info', line, 'step-1'),
  });
  if (r.exitCode !== 0) {
    ctx.activities.finish('step-1', 'Failed');
    throw new Error(`The script returned exit code ${r.exitCode}${args.secret ? ` (${args.secret})` : ''}`);
  }
  ctx.activities.finish('step-1', 'Success');
  return undefined;
}
registerTaskHandler('ScriptTest', scriptHandler);
/** The same handler under a kind of its own, so a test can count its tasks among the executor's. */
registerTaskHandler('ScriptTestCap', scriptHandler);

const EXECUTOR_ENGINES = ENGINES.filter((e) => e !== 'mysql');

for (const engine of EXECUTOR_ENGINES) {
  describe(`${engine}: task executor`, () => {
    let t: TestStorage;
    let home: string;
    let executor: TaskExecutor;
    const key = MasterKey.generate();
    /** The suite's executor, node-a (tests that stop it start it again). */
    const startNodeA = async () => {
      executor = new TaskExecutor({
        storage: t.storage,
        key,
        home,
        nodeId: 'node-a',
        taskCap: 3,
        pollMs: 200,
      });
      await executor.start();
    };
    before(async () => {
      t = await openTestStorage(engine, 'exec');
      home = tempDir('exec-home');
      await startNodeA();
    });
    after(async () => {
      await executor?.stop({ abortRunning: true });
      await t?.close();
    });

    const row = (id: string) =>
      t.storage.db.selectFrom('server_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const logText = async (id: string) =>
      (
        await t.storage.db
          .selectFrom('task_log_chunks')
          .select('text')
          .where('task_id', '=', id)
          .orderBy('seq')
          .execute()
      )
        .map((r) => r.text)
        .join('\n');
    const queue = (script: string, extra: Record<string, unknown> = {}, kind = 'ScriptTest') =>
      enqueueTask(t.storage.db, {
        kind,
        spaceId: null,
        name: 'Test',
        description: 'A test script',
        arguments: { script, ...extra },
      });
    const finished = (id: string, ms = 20_000) =>
      waitFor(
        `${id} to finish`,
        async () => {
          const r = await row(id);
          return r.completed_time ? r : undefined;
        },
        ms,
      );

    it('runs a script to Success, with its output in the task log and the activity tree', async () => {
      const states: string[] = [];
      const off = onTaskStateChange((c) => {
        states.push(c.state);
      });
      try {
        const id = await queue('echo "hello from bash"');
        const r = await finished(id);
        assert.equal(r.state, 'Success');
        assert.equal(r.error_message, null);
        assert.match(await logText(id), /hello from bash/);
        const activities = JSON.parse(r.activity_json) as {
          Id: string;
          Status: string;
          ParentId: string | null;
        }[];
        assert.deepEqual(
          activities.map((a) => [a.Id, a.Status, a.ParentId]),
          [
            [id, 'Success', null],
            ['step-1', 'Success', id],
          ],
        );
        assert.deepEqual(states, ['Executing', 'Success']);
      } finally {
        off();
      }
    });

    it('a non-zero exit code fails the task; a missing handler fails it with a message', async () => {
      const id = await queue('echo before; exit 4');
      const r = await finished(id);
      assert.equal(r.state, 'Failed');
      assert.match(r.error_message!, /exit code 4/);
      assert.equal(JSON.parse(r.activity_json)[1].Status, 'Failed');
      const none = await queue('true', {}, 'NoSuchKind');
      const n = await finished(none);
      assert.equal(n.state, 'Failed');
      assert.match(n.error_message!, /no handler for tasks of kind "NoSuchKind"/);
    });

    it('masks sensitive values in the log and in the error message', async () => {
      const secret = 'S3cr3t-p@ss-value';
      const id = await queue('echo "the password is $SECRET"; echo "$SECRET" >&2; exit 1', { secret });
      const r = await finished(id);
      const text = await logText(id);
      assert.ok(!text.includes(secret), 'secret not in the log');
      assert.match(text, /the password is \*{8}/);
      assert.ok(!r.error_message!.includes(secret));
      assert.match(r.error_message!, /\*{8}/);
    });

    it('writes log chunks while the script still runs', async () => {
      // The script waits for the test's go file: the first line is in the database while it runs.
      const go = path.join(tempDir('log-go'), 'go');
      const id = await queue(`echo first-line; while [ ! -f ${go} ]; do sleep 0.05; done; echo second-line`);
      await waitFor('first line in the database', async () => (await logText(id)).includes('first-line'));
      assert.equal((await row(id)).state, 'Executing');
      assert.ok(!(await logText(id)).includes('second-line'));
      fs.writeFileSync(go, '');
      assert.equal((await finished(id)).state, 'Success');
      assert.match(await logText(id), /second-line/);
    });

    it('cancellation kills the script and its children, and ends Canceled', async () => {
      const dir = tempDir('cancel');
      const id = await queue(
        `echo $$ > ${dir}/leader.pid; sleep 300 & echo $! > ${dir}/child.pid; echo running; wait`,
      );
      await waitFor(
        'script running',
        async () => fs.existsSync(`${dir}/child.pid`) && (await logText(id)).includes('running'),
      );
      const leader = Number(fs.readFileSync(`${dir}/leader.pid`, 'utf8'));
      const child = Number(fs.readFileSync(`${dir}/child.pid`, 'utf8'));
      assert.ok(pidAlive(leader) && pidAlive(child));
      // Through the database only, as another process (the CLI, another node's API) would cancel.
      const other = await t.another();
      await other.db
        .updateTable('server_tasks')
        .set({ cancel_requested: true, state: 'Cancelling' })
        .where('id', '=', id)
        .execute();
      const r = await finished(id);
      assert.equal(r.state, 'Canceled');
      assert.equal(pidAlive(leader), false, 'script gone');
      assert.equal(pidAlive(child), false, 'child gone');
      assert.equal(JSON.parse(r.activity_json)[1].Status, 'Canceled');
    });

    it('requestCancel in this process aborts at once', async () => {
      const id = await queue('echo started; sleep 300');
      await waitFor('started', async () => (await logText(id)).includes('started'));
      const aborts: string[] = [];
      const off = executor.events.on('aborted', (e) => {
        if (e.taskId === id) aborts.push(e.cause);
      });
      try {
        assert.equal(await requestCancel(t.storage.db, id), 'Cancelling');
        // Aborted before requestCancel returned: the in-process wake, not the next cancel poll.
        assert.deepEqual(aborts, ['cancel']);
      } finally {
        off();
      }
      assert.equal((await finished(id)).state, 'Canceled');
    });

    it('a step timeout ends the task TimedOut', async () => {
      const id = await queue('sleep 30', { timeoutMs: 300 });
      const r = await finished(id);
      assert.equal(r.state, 'TimedOut');
      assert.match(r.error_message!, /did not finish within/);
    });

    it('runs at most taskCap tasks at once', async () => {
      // Counted on the executor's own events, which come in the order launches and ends happen.
      const kind = 'ScriptTestCap';
      const running = new Set<string>();
      const ended = new Set<string>();
      let most = 0;
      let ids: string[] = [];
      const offLaunch = executor.events.on('launched', (e) => {
        if (e.kind !== kind) return;
        running.add(e.taskId);
        most = Math.max(most, running.size);
      });
      const offEnd = executor.events.on('finished', (e) => {
        if (e.kind !== kind) return;
        running.delete(e.taskId);
        ended.add(e.taskId);
      });
      try {
        const queued = await Promise.all(Array.from({ length: 6 }, () => queue('sleep 0.5', {}, kind)));
        ids = queued;
        await waitFor('the six tasks to finish', () => queued.every((id) => ended.has(id)));
      } finally {
        offLaunch();
        offEnd();
      }
      const rows = await t.storage.db
        .selectFrom('server_tasks')
        .select('state')
        .where('id', 'in', ids)
        .execute();
      assert.deepEqual(
        rows.map((r) => r.state),
        Array(6).fill('Success'),
      );
      assert.ok(most <= 3 && most >= 2, `at most 3 ran at once (saw ${most})`);
    });

    it('drain lets running tasks finish and claims nothing new; a forced stop leaves nothing Executing', async () => {
      const home2 = tempDir('exec-home');
      const ex = new TaskExecutor({
        storage: t.storage,
        key,
        home: home2,
        nodeId: 'node-b',
        taskCap: 2,
        pollMs: 200,
      });
      await executor.stop();
      try {
        // The running task ends when the test writes its go file, so the drain surely meets it.
        const go = path.join(tempDir('drain-go'), 'go');
        const running = await queue(`while [ ! -f ${go} ]; do sleep 0.05; done; echo done`);
        await ex.start();
        await waitFor('running', async () => (await row(running)).state === 'Executing');
        let drainEnded = false;
        const drained = ex.drain().finally(() => {
          drainEnded = true;
        });
        const waiting = await queue('echo never');
        // A poll round that began after the task was queued: the draining node had its chance to claim it.
        await nextEvent('a poll round after the queueing', ex.events, 'polled');
        assert.equal((await row(waiting)).state, 'Queued', 'a draining node claims nothing');
        assert.equal(drainEnded, false, 'the drain waits for the running task');
        fs.writeFileSync(go, '');
        assert.equal(await drained, true);
        assert.equal((await row(running)).state, 'Success');
        assert.equal((await row(waiting)).state, 'Queued', 'a draining node claims nothing');
        await ex.stop();

        const ex2 = new TaskExecutor({
          storage: t.storage,
          key,
          home: home2,
          nodeId: 'node-c',
          taskCap: 2,
          pollMs: 200,
        });
        await ex2.start();
        const long = await queue('sleep 300');
        await waitFor('long running', async () => (await row(long)).state === 'Executing');
        await ex2.stop({ abortRunning: true });
        const r = await row(long);
        assert.equal(r.state, 'Canceled');
        assert.match(r.error_message!, /node running the task was stopped/);
      } finally {
        await startNodeA();
      }
    });

    // A claim in flight when a drain or a stop starts launches what it claims: both must account
    // for it. PostgreSQL lets the test hold the claim (its SELECT ... FOR UPDATE) on a table lock.
    const onPostgres = {
      skip: engine !== 'postgres' && 'holding a claim in flight takes a PostgreSQL table lock',
      timeout: 30_000,
    };

    /**
     * Queues `script`, then starts node-d with its first claim of it waiting on a table lock. Its
     * poll rounds meanwhile only note that a claim is in flight, until it drains: then each round
     * emits `polled` (skipped: draining), which the tests wait for.
     */
    async function claimHeldInFlight(script: string) {
      await executor.stop();
      const ex = new TaskExecutor({
        storage: t.storage,
        key,
        home,
        nodeId: 'node-d',
        taskCap: 2,
        pollMs: 50,
      });
      const locker = await t.another();
      const task = await queue(script);
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      let locked!: () => void;
      const lockTaken = new Promise<void>((r) => {
        locked = r;
      });
      const holding = locker.db.transaction().execute(async (trx) => {
        await sql`LOCK TABLE server_tasks IN EXCLUSIVE MODE`.execute(trx);
        locked();
        await released;
      });
      await lockTaken;
      await ex.start();
      await waitFor('the claim to wait on the lock', async () => {
        const r = await sql<{ n: string | number }>`SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(locker.db);
        return Number(r.rows[0]!.n) > 0;
      });
      return { ex, task, release, holding };
    }

    /** Resolves with the promise's value; `settled()` says whether it has yet. */
    function watch<T>(p: Promise<T>) {
      let done = false;
      const result = p.finally(() => {
        done = true;
      });
      return { result, settled: () => done };
    }

    it('a drain waits for a claim already in flight and for the task it launches', onPostgres, async () => {
      const held = await claimHeldInFlight('echo claimed late');
      try {
        const drained = watch(held.ex.drain());
        // A drain that overlooked the claim would end within the microtasks of this call; a poll
        // round is a timer later, so by then such a drain has settled.
        await first(nextEvent('a poll round while draining', held.ex.events, 'polled'), drained.result);
        assert.equal(drained.settled(), false, 'the drain waits for the claim in flight');
        held.release();
        await held.holding;
        assert.equal(await drained.result, true);
        assert.equal((await row(held.task)).state, 'Success', 'the claimed task ran before the drain ended');
        await held.ex.stop();
      } finally {
        held.release();
        await startNodeA();
      }
    });

    it('a forced stop also aborts what a claim in flight launches', onPostgres, async () => {
      const held = await claimHeldInFlight('sleep 300');
      try {
        const stopped = watch(held.ex.stop({ abortRunning: true }));
        // As for the drain above: a poll round comes a timer after a stop that did not wait.
        await first(nextEvent('a poll round while stopping', held.ex.events, 'polled'), stopped.result);
        assert.equal(stopped.settled(), false, 'the stop waits for the claim in flight');
        held.release();
        await held.holding;
        await stopped.result;
        const r = await row(held.task);
        assert.equal(r.state, 'Canceled', 'the task the claim launched was aborted, not waited for');
      } finally {
        held.release();
        await startNodeA();
      }
    });
  });
}
