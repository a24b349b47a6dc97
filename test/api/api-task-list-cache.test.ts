import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { READ_CACHE_TTL_MS } from '../../src/server/read-caches.js';
import { openStorage } from '../../src/storage/storage.js';
import { claimTasks } from '../../src/tasks/task-claim.js';
import { enqueueTask } from '../../src/tasks/task-queue.js';
import { type ApiFixture, call, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';
import { ManualClock } from '../helpers/manual-clock.js';

const task = (name: string, spaceId: string | null = 'Spaces-1') => ({
  kind: 'Test',
  spaceId,
  name,
  description: `cache test ${name}`,
  arguments: {},
});

/**
 * Task lists, the keys that read them and the spaces they belong to are answered from read caches
 * (server/read-caches.ts). Whatever changes through this node must show in the very next call.
 */
for (const engine of ENGINES) {
  describe(`${engine}: task lists from the read cache`, () => {
    let fx: ApiFixture;
    // The caches' lifetimes run on this clock: every test below sees changes through this node
    // without time passing; only the last one moves the clock.
    const clock = new ManualClock();
    before(async () => {
      fx = await startApi(engine, 'apitaskcache', { clock });
    });
    after(async () => fx?.close());

    const list = (url = '/api/Spaces-1/tasks?take=100', key: string | null = fx.adminKey) =>
      call(fx, 'GET', url, undefined, key);
    const stateOf = async (id: string) =>
      (await list()).body.Items.find((t: { Id: string }) => t.Id === id)?.State as string | undefined;

    it('shows a task queued, claimed and canceled through this node in the very next list call', async () => {
      const first = await list();
      assert.equal((await list()).text, first.text, 'a second call, answered from the cache, is the same');
      const id = await enqueueTask(fx.storage.db, task('a'));
      const queued = await list();
      assert.equal(queued.body.TotalResults, first.body.TotalResults + 1);
      assert.equal(await stateOf(id), 'Queued');
      // On PostgreSQL and MySQL the claim is a transaction: its change shows once it commits.
      const [claimed] = await claimTasks(fx.storage, { nodeId: 'test-node', limit: 1, leaseMs: 60_000 });
      assert.equal(claimed?.id, id);
      assert.equal(await stateOf(id), 'Executing');
      assert.equal((await call(fx, 'POST', `/api/tasks/${id}/cancel`, {})).status, 200);
      assert.equal(await stateOf(id), 'Cancelling');
    });

    it('keys each answer by everything that shapes it', async () => {
      const instanceWide = await enqueueTask(fx.storage.db, task('instance-wide', null));
      await enqueueTask(fx.storage.db, task('b'));
      const one = await list('/api/Spaces-1/tasks?take=1');
      const two = await list('/api/Spaces-1/tasks?take=2');
      assert.equal(one.body.Items.length, 1);
      assert.equal(two.body.Items.length, 2);
      const queued = await list('/api/Spaces-1/tasks?take=100&states=Queued');
      assert.ok(queued.body.Items.every((t: { State: string }) => t.State === 'Queued'));
      assert.ok(queued.body.Items.length < (await list()).body.Items.length);
      const ids = (r: { body: { Items: { Id: string }[] } }) => r.body.Items.map((t) => t.Id);
      assert.ok(!ids(await list()).includes(instanceWide), 'a space list leaves instance-wide tasks out');
      assert.ok(ids(await list('/api/tasks?take=100')).includes(instanceWide));
      assert.equal((await list()).body.Links.Self, '/api/Spaces-1/tasks');
      assert.equal((await list('/api/tasks?take=100')).body.Links.Self, '/api/tasks');
    });

    it('never answers a caller whose key is wrong or whose user was deactivated, even when warm', async () => {
      const warm = await list(undefined, fx.deployerKey);
      assert.equal(warm.status, 200);
      // The administrator's own answer: another role's is another cache entry, built at another
      // moment, and a running task's Duration (wall-clock seconds) may differ between the two.
      const adminWarm = await list();
      assert.equal((await list(undefined, null)).status, 401);
      assert.equal((await list(undefined, 'API-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 401);
      await fx.storage.db
        .updateTable('users')
        .set({ is_active: false })
        .where('username', '=', 'deployer')
        .execute();
      try {
        const refused = await list(undefined, fx.deployerKey);
        assert.equal(refused.status, 401, 'the deactivation counts from the next request');
        assert.equal(refused.body.Items, undefined);
        assert.equal((await list()).text, adminWarm.text, 'the administrator is still answered');
      } finally {
        await fx.storage.db
          .updateTable('users')
          .set({ is_active: true })
          .where('username', '=', 'deployer')
          .execute();
      }
      assert.equal((await list(undefined, fx.deployerKey)).status, 200);
    });

    it('answers 404 for a space deleted through this node, right after its list was served', async () => {
      const space = await call(fx, 'POST', '/api/spaces', { Name: 'Cached space' });
      assert.equal(space.status, 201, space.text);
      const url = `/api/${space.body.Id}/tasks`;
      assert.equal((await list(url)).status, 200);
      assert.equal((await call(fx, 'DELETE', `/api/spaces/${space.body.Id}`)).status, 200);
      assert.equal((await list(url)).status, 404);
    });

    it('shows a task queued by another process once the cache lifetime has passed', async () => {
      const other = await openStorage(fx.storage.target);
      try {
        const warm = await list();
        const id = await enqueueTask(other.db, task('from another node'));
        // This node did not see the write: the cached answer stands for the cache's lifetime...
        clock.advance(READ_CACHE_TTL_MS - 1);
        assert.equal((await list()).text, warm.text, 'answered from the cache');
        assert.equal(await stateOf(id), undefined);
        // ...and not a moment longer.
        clock.advance(1);
        assert.equal(await stateOf(id), 'Queued');
      } finally {
        await other.close();
      }
    });
  });
}
