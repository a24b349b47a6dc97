import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { streamsCopyTo } from '../../src/storage/dialects/dialect.js';
import { registerNode } from '../../src/tasks/node-registry.js';
import { claimTasks } from '../../src/tasks/task-claim.js';
import { renewLeases } from '../../src/tasks/task-lease.js';
import { enqueueTask, requestCancel } from '../../src/tasks/task-queue.js';
import { claimFence } from '../../src/tasks/task-runner.js';
import { ENGINES } from '../helpers/engines.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

const input = (name: string) => ({
  kind: 'Test',
  spaceId: null,
  name,
  description: `test ${name}`,
  arguments: {},
});

/**
 * Read caches (task lists, API keys) trust `storage.changes` to move after every write made
 * through the handle, and only once the write is visible to other connections.
 */
for (const engine of ENGINES) {
  describe(`${engine}: table versions follow the writes made through the handle`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'changever');
      await registerNode(t.storage.db, { nodeId: 'n1', taskCap: 4 });
    });
    after(async () => t?.close());

    const tasksVersion = () => t.storage.changes.version('server_tasks');

    it('moves with every write of the queue, the claim and the leases, and not with reads', async () => {
      let v = tasksVersion();
      const users = t.storage.changes.version('users');
      const id = await enqueueTask(t.storage.db, input('a'));
      assert.ok(tasksVersion() > v, 'enqueue');
      v = tasksVersion();
      await t.storage.db.selectFrom('server_tasks').selectAll().execute();
      assert.equal(tasksVersion(), v, 'a read moves nothing');
      const [claimed] = await claimTasks(t.storage, { nodeId: 'n1', limit: 1, leaseMs: 60_000 });
      assert.equal(claimed?.id, id);
      assert.ok(tasksVersion() > v, 'claim');
      v = tasksVersion();
      await renewLeases(t.storage.db, [claimFence({ storage: t.storage, nodeId: 'n1' }, claimed!)], 60_000);
      assert.ok(tasksVersion() > v, 'lease renewal');
      v = tasksVersion();
      await requestCancel(t.storage.db, id);
      assert.ok(tasksVersion() > v, 'cancel');
      assert.equal(t.storage.changes.version('users'), users, 'other tables keep their version');
    });

    it('moves only when a transaction commits, not at its statements', async () => {
      const v = tasksVersion();
      await t.storage.db.transaction().execute(async (trx) => {
        await enqueueTask(trx, input('in-tx'));
        assert.equal(tasksVersion(), v, 'not visible to other connections yet');
      });
      assert.ok(tasksVersion() > v, 'after commit');
    });

    it('moves every version on raw SQL that writes', async () => {
      const tasks = tasksVersion();
      const users = t.storage.changes.version('users');
      await sql`DELETE FROM ${sql.table('server_tasks')} WHERE ${sql.ref('kind')} = ${'none'}`.execute(
        t.storage.db,
      );
      assert.ok(tasksVersion() > tasks);
      assert.ok(t.storage.changes.version('users') > users);
      const v = tasksVersion();
      await sql`SELECT 1`.execute(t.storage.db);
      assert.equal(tasksVersion(), v, 'a raw read moves nothing');
      if (streamsCopyTo(t.storage.db)) {
        // How the backup's table reader streams PostgreSQL tables.
        const copy = sql
          .raw(`COPY (SELECT id FROM server_tasks ORDER BY id) TO STDOUT`)
          .compile(t.storage.db);
        for await (const _ of t.storage.db.getExecutor().stream(copy, 1));
        assert.equal(tasksVersion(), v, 'a COPY ... TO STDOUT moves nothing');
      }
    });

    it('does not hear writes made through another handle (another node): caches also expire', async () => {
      const other = await t.another();
      const v = tasksVersion();
      await enqueueTask(other.db, input('elsewhere'));
      assert.equal(tasksVersion(), v);
    });
  });
}
