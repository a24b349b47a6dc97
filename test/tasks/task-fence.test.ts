import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ActivityTree } from '../../src/tasks/activity-tree.js';
import { claimTasks } from '../../src/tasks/task-claim.js';
import { fencedWrite, LeaseLostError, type TaskFence } from '../../src/tasks/task-fence.js';
import { sweepExpiredLeases } from '../../src/tasks/task-lease.js';
import { TaskLogWriter } from '../../src/tasks/task-log-writer.js';
import { enqueueTask } from '../../src/tasks/task-queue.js';
import { claimFence } from '../../src/tasks/task-runner.js';
import type { TaskRecord } from '../../src/tasks/task-types.js';
import { ENGINES } from '../helpers/engines.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

const input = (name: string) => ({
  kind: 'Test',
  spaceId: null,
  name,
  description: `test ${name}`,
  arguments: {},
  priority: 0,
});

for (const engine of ENGINES) {
  describe(`${engine}: task fencing`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'fence');
    });
    after(async () => {
      await t?.close();
    });
    beforeEach(async () => {
      await t.storage.db.deleteFrom('server_tasks').execute();
    });

    const chunks = async (id: string) =>
      (
        await t.storage.db
          .selectFrom('task_log_chunks')
          .select('text')
          .where('task_id', '=', id)
          .orderBy('seq')
          .execute()
      ).map((r) => r.text);
    const expire = (id: string) =>
      t.storage.db
        .updateTable('server_tasks')
        .set({ lease_until: new Date(Date.now() - 1).toISOString() })
        .where('id', '=', id)
        .execute();
    const claimOne = async (
      nodeId: string,
      leaseMs = 60_000,
    ): Promise<{ task: TaskRecord; fence: TaskFence }> => {
      const [task] = await claimTasks(t.storage, { nodeId, limit: 1, leaseMs });
      assert.ok(task, 'claimed');
      return { task, fence: claimFence({ storage: t.storage, nodeId }, task) };
    };

    it("the database refuses a claim's writes once its lease ran out, by the database's clock", async () => {
      const id = await enqueueTask(t.storage.db, input('expired'));
      const { fence } = await claimOne('n1');
      const lost: LeaseLostError[] = [];
      const log = await TaskLogWriter.open(t.storage.db, id, {
        fresh: true,
        fence,
        onLeaseLost: (e) => lost.push(e),
      });
      log.info('before the lease ran out');
      await log.flush();
      await expire(id);
      log.info('after the lease ran out');
      await assert.rejects(
        log.flush(),
        (e: unknown) => e instanceof LeaseLostError && e.code === 'TASK_LEASE_LOST',
      );
      log.info('later still');
      await log.flush();
      assert.deepEqual(
        await chunks(id),
        ['before the lease ran out'],
        'nothing written after the lease ran out',
      );
      assert.equal(lost.length, 1, 'told once');

      const tree = new ActivityTree(t.storage.db, id, 'Deploy', [], {
        fence,
        onLeaseLost: (e) => lost.push(e),
      });
      tree.start(`${id}-step`, 'Step 1');
      await assert.rejects(tree.persist(), LeaseLostError);
      const row = await t.storage.db
        .selectFrom('server_tasks')
        .select('activity_json')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(row.activity_json, /Step 1/);
    });

    it('a stale epoch is refused: the claim of an earlier attempt cannot write once the task was swept and claimed again', async () => {
      const id = await enqueueTask(t.storage.db, input('stale'));
      const first = await claimOne('n1', -1_000);
      const swept = await sweepExpiredLeases(t.storage.db, {
        nowSql: t.storage.capabilities.nowTimestampSql,
        maxAttempts: 5,
      });
      assert.ok(swept.requeued.includes(id));
      // the same node claims it again: only the epoch tells the two claims apart
      const second = await claimOne('n1');
      assert.equal(second.task.id, id);
      assert.equal(second.fence.epoch, first.fence.epoch + 1);
      await assert.rejects(
        fencedWrite(t.storage.db, first.fence, (trx) =>
          trx
            .insertInto('task_log_chunks')
            .values({
              task_id: id,
              seq: 0,
              activity_id: id,
              category: 'Info',
              occurred: new Date().toISOString(),
              text: 'stale',
            })
            .execute(),
        ),
        LeaseLostError,
      );
      await fencedWrite(t.storage.db, second.fence, (trx) =>
        trx
          .insertInto('task_log_chunks')
          .values({
            task_id: id,
            seq: 0,
            activity_id: id,
            category: 'Info',
            occurred: new Date().toISOString(),
            text: 'current',
          })
          .execute(),
      );
      assert.deepEqual(await chunks(id), ['current']);
    });

    it('a refused check writes nothing of the transaction, and leaves the task row as it was', async () => {
      const id = await enqueueTask(t.storage.db, input('untouched'));
      const { task, fence } = await claimOne('n1');
      assert.equal(task.id, id);
      await expire(id);
      const before = await t.storage.db
        .selectFrom('server_tasks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      await assert.rejects(
        fencedWrite(t.storage.db, fence, async () => assert.fail('the write must not run')),
        LeaseLostError,
      );
      const afterRow = await t.storage.db
        .selectFrom('server_tasks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(afterRow, before);
    });
  });
}
