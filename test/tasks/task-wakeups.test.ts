import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { ConnectionTarget } from '../../src/config/connection-string.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { CuttleError } from '../../src/lib/errors.js';
import { LISTENER_APPLICATION_NAME } from '../../src/storage/dialects/postgres/postgres-wakeups.js';
import { Storage } from '../../src/storage/storage.js';
import { registerTaskHandler } from '../../src/tasks/handler-registry.js';
import { TaskExecutor } from '../../src/tasks/task-executor.js';
import { enqueueTask, requestCancel } from '../../src/tasks/task-queue.js';
import { TaskWakeups } from '../../src/tasks/task-wakeups.js';
import { ENGINES, tempDir } from '../helpers/engines.js';
import { nextEvent } from '../helpers/wait-for.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

/**
 * Two Storage handles on one database are two nodes: node A queues and cancels, the executor on
 * node B runs. Both are in this process, whose in-process wake-ups (taskEvents) would reach B
 * directly; A therefore queues and cancels inside a transaction, which wakes this process's
 * executors only through the database (the notification at commit), exactly as another process's
 * enqueue does. B polls, checks for cancels and sweeps once an hour, so within a test only a
 * notification (or the listener's reconnect) starts a claim round.
 */
registerTaskHandler('WakeupTest', async (ctx) => {
  if ((ctx.task.arguments as { wait?: boolean }).wait) {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  return undefined;
});

const ONCE_AN_HOUR = 3_600_000;

function queueIn(storage: Storage, extra: Record<string, unknown> = {}): Promise<string> {
  return storage.db.transaction().execute((tx) =>
    enqueueTask(tx, {
      kind: 'WakeupTest',
      spaceId: null,
      name: 'WakeupTest',
      description: 'A task for the wake-up tests',
      arguments: { ...extra },
    }),
  );
}

if (ENGINES.includes('postgres')) {
  describe('postgres: task wake-ups across nodes (LISTEN/NOTIFY)', () => {
    let t: TestStorage;
    let nodeB: Storage;
    let wakeups: TaskWakeups;
    let executor: TaskExecutor;
    const errors: unknown[] = [];
    before(async () => {
      t = await openTestStorage('postgres', 'wakeups');
      nodeB = await t.another();
      wakeups = new TaskWakeups(nodeB);
      executor = new TaskExecutor({
        storage: nodeB,
        key: MasterKey.generate(),
        home: tempDir('wakeups-home'),
        nodeId: 'node-b',
        taskCap: 2,
        pollMs: ONCE_AN_HOUR,
        cancelPollMs: ONCE_AN_HOUR,
        sweepMs: ONCE_AN_HOUR,
        wakeups,
        onError: (err) => errors.push(err),
      });
      await executor.start();
    });
    after(async () => {
      await executor?.stop({ abortRunning: true });
      await t?.close();
    });

    it('a task queued on node A starts on idle node B, woken by the notification at commit', async () => {
      assert.equal(wakeups.acrossProcesses, true);
      const notified = nextEvent('the notification', wakeups.events, 'notified');
      const launched = nextEvent('the launch', executor.events, 'launched');
      const id = await queueIn(t.storage);
      assert.deepEqual(await launched, {
        nodeId: 'node-b',
        taskId: id,
        kind: 'WakeupTest',
        attempt: 1,
        running: 1,
      });
      assert.deepEqual(await notified, { what: 'queued' });
    });

    it('a rolled-back enqueue notifies nobody: the first notification is the committed one', async () => {
      const seen: unknown[] = [];
      const off = wakeups.events.on('notified', (e) => seen.push(e));
      try {
        await assert.rejects(
          t.storage.db.transaction().execute(async (tx) => {
            await enqueueTask(tx, {
              kind: 'WakeupTest',
              spaceId: null,
              name: 'WakeupTest',
              description: 'rolled back',
              arguments: {},
            });
            throw new Error('roll back');
          }),
          /roll back/,
        );
        // Notifications arrive in commit order: one of the rollback would come first.
        const notified = nextEvent('the committed notification', wakeups.events, 'notified');
        const launched = nextEvent('the launch', executor.events, 'launched');
        const id = await queueIn(t.storage);
        await notified;
        assert.deepEqual(seen, [{ what: 'queued' }]);
        assert.equal((await launched).taskId, id);
      } finally {
        off();
      }
    });

    it('a cancel requested on node A aborts the task on node B at once, with no cancel poll', async () => {
      const launched = nextEvent('the launch', executor.events, 'launched');
      const id = await queueIn(t.storage, { wait: true });
      assert.equal((await launched).taskId, id);
      const aborted = nextEvent('the abort', executor.events, 'aborted', (e) => e.taskId === id);
      const finished = nextEvent('the end', executor.events, 'finished', (e) => e.taskId === id);
      const state = await t.storage.db.transaction().execute((tx) => requestCancel(tx, id));
      assert.equal(state, 'Cancelling');
      assert.equal((await aborted).cause, 'cancel');
      assert.equal((await finished).state, 'Canceled');
    });

    it('the listener reconnects after its connection is killed, claims once, and wakes the node again', async () => {
      const lost = nextEvent('the drop', wakeups.events, 'lost');
      const again = nextEvent('listening again', wakeups.events, 'listening', (e) => e.again);
      // With polls and sweeps an hour apart, the next round is the one the reconnect starts.
      const round = again.then(() =>
        nextEvent('the claim round of the reconnect', executor.events, 'polled'),
      );
      const errorsBefore = errors.length;
      const listeners = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
        WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()`.execute(
        t.storage.db,
      );
      assert.equal(listeners.rows.length, 1, 'one listener connection for the node');
      await sql`SELECT pg_terminate_backend(${listeners.rows[0]!.pid})`.execute(t.storage.db);
      await lost;
      await again;
      await round;
      const reported = errors.slice(errorsBefore);
      assert.equal(reported.length, 1, 'the drop is reported once');
      assert.ok(reported[0] instanceof CuttleError);
      assert.equal(reported[0].code, 'TASK_WAKEUPS_LOST');

      const launched = nextEvent('the launch after the reconnect', executor.events, 'launched');
      const id = await queueIn(t.storage);
      assert.equal((await launched).taskId, id);
    });

    it('a listener that cannot connect retries, and never prints the password', async () => {
      const password = 'wake-up-secret-pw-7731';
      const target = { ...nodeB.target, password, database: 'cuttle_no_such_database' } as ConnectionTarget;
      const unreachable = new TaskWakeups(new Storage(target, nodeB.db, nodeB.dialect, nodeB.changes));
      const reported: unknown[] = [];
      const twoTries = new Promise<void>((resolve) => {
        let n = 0;
        unreachable.events.on('lost', () => {
          if (++n === 2) resolve();
        });
      });
      // start() resolves after the first try, whatever it gave: polling does the work meanwhile.
      await unreachable.start({ wake: () => {}, cancel: () => {}, onError: (err) => reported.push(err) });
      try {
        await twoTries;
      } finally {
        await unreachable.stop();
      }
      assert.equal(reported.length, 1, 'reported once until it listens again');
      const err = reported[0] as CuttleError;
      assert.equal(err.code, 'TASK_WAKEUPS_LOST');
      assert.match(err.message, /cuttle_no_such_database/);
      assert.ok(!`${err.message}\n${err.hints.join('\n')}`.includes(password), err.message);
    });
  });
}

// MySQL/MariaDB has no LISTEN: nodes poll. (SQLite has one node: nothing to wake across processes.)
if (ENGINES.includes('mysql')) {
  const engine = 'mysql';
  describe('mysql: no wake-ups across processes, the executor polls', () => {
    let t: TestStorage;
    let executor: TaskExecutor;
    before(async () => {
      t = await openTestStorage(engine, 'wakepoll');
      const nodeB = await t.another();
      executor = new TaskExecutor({
        storage: nodeB,
        key: MasterKey.generate(),
        home: tempDir('wakepoll-home'),
        nodeId: 'node-b',
        taskCap: 2,
        pollMs: 100,
        sweepMs: ONCE_AN_HOUR,
      });
      await executor.start();
    });
    after(async () => {
      await executor?.stop({ abortRunning: true });
      await t?.close();
    });

    it('a task queued on node A starts on node B by its poll', async () => {
      assert.equal(new TaskWakeups(t.storage).acrossProcesses, false);
      const launched = nextEvent('the launch', executor.events, 'launched');
      const finished = nextEvent('the end', executor.events, 'finished');
      const id = await queueIn(t.storage);
      assert.deepEqual(await launched, {
        nodeId: 'node-b',
        taskId: id,
        kind: 'WakeupTest',
        attempt: 1,
        running: 1,
      });
      assert.equal((await finished).state, 'Success');
    });
  });
}
