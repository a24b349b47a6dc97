import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimTasks } from '../../src/tasks/task-claim.js';
import { LeaseLostError } from '../../src/tasks/task-fence.js';
import {
  FLUSH_INTERVAL_MS,
  TaskLogWriter,
  WATCHED_FLUSH_INTERVAL_MS,
  watchTaskLog,
} from '../../src/tasks/task-log-writer.js';
import { enqueueTask } from '../../src/tasks/task-queue.js';
import { claimFence } from '../../src/tasks/task-runner.js';
import { ENGINES } from '../helpers/engines.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { nextEvent } from '../helpers/wait-for.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

for (const engine of ENGINES) {
  describe(`${engine}: a watched task log (watchTaskLog)`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'logwatch');
    });
    after(async () => {
      await t?.close();
    });

    const texts = async (taskId: string) =>
      (
        await t.storage.db
          .selectFrom('task_log_chunks')
          .select('text')
          .where('task_id', '=', taskId)
          .orderBy('seq')
          .execute()
      ).map((r) => r.text);

    it('while watched, a line is flushed WATCHED_FLUSH_INTERVAL_MS after it, and the watcher is told once it is stored', async () => {
      const clock = new ManualClock();
      const log = await TaskLogWriter.open(t.storage.db, 'ServerTasks-w1', { clock, fresh: true });
      // what the watcher reads as soon as it is told (a stream reads the new chunks at once)
      const told: { rows: number; read: Promise<string[]> }[] = [];
      // watching before the first line, as a page opened on a task that just started
      const unwatch = watchTaskLog(t.storage.db, 'ServerTasks-w1', (e) => {
        told.push({ rows: e.rows, read: texts('ServerTasks-w1') });
      });
      const flushed = nextEvent('the watched flush', log.events, 'flushed');
      log.info('watched line');
      clock.advance(WATCHED_FLUSH_INTERVAL_MS - 1);
      assert.deepEqual(await texts('ServerTasks-w1'), [], 'not before its time');
      clock.advance(1);
      assert.deepEqual(await flushed, { taskId: 'ServerTasks-w1', rows: 1 });
      assert.deepEqual(await texts('ServerTasks-w1'), ['watched line']);
      assert.equal(told.length, 1);
      assert.equal(told[0]!.rows, 1);
      assert.deepEqual(await told[0]!.read, ['watched line'], 'told after the rows committed');
      // the watched flush took the place of the slow one: no second flush is waiting
      assert.equal(clock.pendingTimers, 0);

      unwatch();
      log.info('unwatched line');
      clock.advance(WATCHED_FLUSH_INTERVAL_MS);
      assert.deepEqual(await texts('ServerTasks-w1'), ['watched line'], 'back to the usual interval');
      const slow = nextEvent('the usual flush', log.events, 'flushed');
      clock.advance(FLUSH_INTERVAL_MS - WATCHED_FLUSH_INTERVAL_MS);
      await slow;
      assert.deepEqual(await texts('ServerTasks-w1'), ['watched line', 'unwatched line']);
      assert.equal(told.length, 1, 'an unwatched flush is told to no one');
      await log.close();
      assert.equal(clock.pendingTimers, 0);
    });

    it('a watch on another database handle, or on another task, changes nothing', async () => {
      const clock = new ManualClock();
      const log = await TaskLogWriter.open(t.storage.db, 'ServerTasks-w2', { clock, fresh: true });
      const told: number[] = [];
      const offOther = watchTaskLog({}, 'ServerTasks-w2', (e) => told.push(e.rows));
      const offTask = watchTaskLog(t.storage.db, 'ServerTasks-elsewhere', (e) => told.push(e.rows));
      log.info('line');
      clock.advance(WATCHED_FLUSH_INTERVAL_MS);
      assert.deepEqual(await texts('ServerTasks-w2'), []);
      const flushed = nextEvent('the usual flush', log.events, 'flushed');
      clock.advance(FLUSH_INTERVAL_MS);
      await flushed;
      assert.deepEqual(told, []);
      offOther();
      offTask();
      await log.close();
    });

    it('a watched writer whose claim lost the task: the fenced write is refused, nothing lands, the watcher hears nothing', async () => {
      const id = await enqueueTask(t.storage.db, {
        kind: 'Test',
        spaceId: null,
        name: 'watched-fenced',
        description: 'test',
        arguments: {},
        priority: 0,
      });
      const [task] = await claimTasks(t.storage, { nodeId: 'n1', limit: 1, leaseMs: 60_000 });
      assert.ok(task);
      const lost: LeaseLostError[] = [];
      const clock = new ManualClock();
      const log = await TaskLogWriter.open(t.storage.db, id, {
        clock,
        fresh: true,
        fence: claimFence({ storage: t.storage, nodeId: 'n1' }, task),
        onLeaseLost: (e) => lost.push(e),
      });
      const told: number[] = [];
      const unwatch = watchTaskLog(t.storage.db, id, (e) => told.push(e.rows));
      log.info('while owned');
      await log.flush();
      assert.deepEqual(told, [1]);
      await t.storage.db
        .updateTable('server_tasks')
        .set({ lease_until: new Date(Date.now() - 1).toISOString() })
        .where('id', '=', id)
        .execute();
      log.info('after the lease ran out');
      await assert.rejects(log.flush(), LeaseLostError);
      log.info('later still');
      clock.advance(FLUSH_INTERVAL_MS);
      await log.flush();
      assert.deepEqual(await texts(id), ['while owned']);
      assert.equal(lost.length, 1);
      assert.deepEqual(
        told.filter((n) => n > 0),
        [1],
        'told only of the write that landed',
      );
      unwatch();
    });
  });
}
