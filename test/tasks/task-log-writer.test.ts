import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PreconditionError } from '../../src/lib/errors.js';
import {
  assertNodeNotRetired,
  heartbeatNode,
  markNodeStopped,
  registerNode,
} from '../../src/tasks/node-registry.js';
import { FLUSH_INTERVAL_MS, TaskLogWriter } from '../../src/tasks/task-log-writer.js';
import { ENGINES } from '../helpers/engines.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { nextEvent } from '../helpers/wait-for.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

for (const engine of ENGINES.filter((e) => e !== 'mysql')) {
  describe(`${engine}: task log writer and node registry`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'logw');
    });
    after(async () => {
      await t?.close();
    });

    const chunks = (taskId: string) =>
      t.storage.db
        .selectFrom('task_log_chunks')
        .selectAll()
        .where('task_id', '=', taskId)
        .orderBy('seq')
        .execute();

    it('groups consecutive lines of one activity and category into chunks, masks, and continues seq', async () => {
      const log = await TaskLogWriter.open(t.storage.db, 'ServerTasks-1');
      log.mask(['hunter2-secret', 'line-one\nline-two-secret']);
      log.info('a\nb');
      log.info('c with hunter2-secret inside');
      log.error('boom', 'step-1');
      log.info('line-two-secret printed alone', 'step-1');
      await log.close();
      log.info('after close is dropped');
      await log.flush();
      const rows = await chunks('ServerTasks-1');
      assert.deepEqual(
        rows.map((r) => [r.seq, r.activity_id, r.category, r.text]),
        [
          [0, 'ServerTasks-1', 'Info', 'a\nb\nc with ******** inside'],
          [1, 'step-1', 'Error', 'boom'],
          [2, 'step-1', 'Info', '******** printed alone'],
        ],
      );
      const again = await TaskLogWriter.open(t.storage.db, 'ServerTasks-1');
      again.warn('second attempt');
      await again.flush();
      assert.equal((await chunks('ServerTasks-1')).at(-1)!.seq, 3);
    });

    it('flushes by itself FLUSH_INTERVAL_MS after a line is buffered', async () => {
      const clock = new ManualClock();
      const log = await TaskLogWriter.open(t.storage.db, 'ServerTasks-2', { clock });
      const flushed = nextEvent('the background flush', log.events, 'flushed');
      log.info('background');
      // Nothing else flushes this writer, and its timer is not due yet: no flush has started.
      clock.advance(FLUSH_INTERVAL_MS - 1);
      assert.equal(clock.pendingTimers, 1, 'the flush is still waiting for its time');
      assert.equal((await chunks('ServerTasks-2')).length, 0);
      clock.advance(1);
      assert.deepEqual(await flushed, { taskId: 'ServerTasks-2', rows: 1 });
      const rows = await chunks('ServerTasks-2');
      assert.deepEqual(
        rows.map((r) => [r.text, r.occurred]),
        [['background', new Date(clock.now() - FLUSH_INTERVAL_MS).toISOString()]],
      );
      await log.close();
    });

    it('a retired node refuses to start unless allowed; heartbeats and stop update its row', async () => {
      await registerNode(t.storage.db, { nodeId: 'n-1', taskCap: 4 });
      await heartbeatNode(t.storage.db, 'n-1', { runningTasks: 2, draining: true, taskCap: 4 });
      let row = await t.storage.db
        .selectFrom('server_nodes')
        .selectAll()
        .where('id', '=', 'n-1')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'live');
      assert.equal(row.running_tasks, 2);
      assert.equal(!!Number(row.draining), true);
      await markNodeStopped(t.storage.db, 'n-1');
      row = await t.storage.db
        .selectFrom('server_nodes')
        .selectAll()
        .where('id', '=', 'n-1')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'stopped');
      await t.storage.db
        .updateTable('server_nodes')
        .set({ status: 'retired' })
        .where('id', '=', 'n-1')
        .execute();
      await assert.rejects(registerNode(t.storage.db, { nodeId: 'n-1', taskCap: 4 }), /is retired/);
      await assert.rejects(assertNodeNotRetired(t.storage.db, 'n-1'), (e: PreconditionError) =>
        e.hints.some((h) => h.includes('--allow-retired-node')),
      );
      await registerNode(t.storage.db, { nodeId: 'n-1', taskCap: 4, allowRetired: true });
      row = await t.storage.db
        .selectFrom('server_nodes')
        .selectAll()
        .where('id', '=', 'n-1')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'live');
    });
  });
}
