import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeOfflineNodes } from '../../src/core/node-service.js';
import { NODE_REMOVE_AFTER_MS } from '../../src/tasks/lease-timing.js';
import { markNodeStopped, registerNode } from '../../src/tasks/node-registry.js';
import { ENGINES } from '../helpers/engines.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

for (const engine of ENGINES) {
  describe(`${engine}: offline nodes`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'offline');
    });
    after(async () => {
      await t?.close();
    });

    it('a node not seen for longer than the documented time leaves the list with an event; retired and fresh nodes stay', async () => {
      const db = t.storage.db;
      for (const id of ['fresh', 'crashed', 'stopped', 'retired'])
        await registerNode(db, { nodeId: id, taskCap: 2 });
      await markNodeStopped(db, 'stopped');
      await db.updateTable('server_nodes').set({ status: 'retired' }).where('id', '=', 'retired').execute();
      const old = new Date(Date.now() - NODE_REMOVE_AFTER_MS - 60_000).toISOString();
      await db.updateTable('server_nodes').set({ last_seen: old }).where('id', '!=', 'fresh').execute();

      assert.deepEqual((await removeOfflineNodes(db)).sort(), ['crashed', 'stopped']);
      const left = await db.selectFrom('server_nodes').select('id').orderBy('id').execute();
      assert.deepEqual(
        left.map((r) => r.id),
        ['fresh', 'retired'],
      );
      const events = await db
        .selectFrom('events')
        .select(['category', 'message'])
        .where('category', '=', 'Deleted')
        .execute();
      assert.equal(events.length, 2);
      assert.match(
        events.map((e) => e.message).join('\n'),
        new RegExp(`Node crashed .* not seen since ${old}`),
      );
      assert.deepEqual(await removeOfflineNodes(db), [], 'once only');
    });
  });
}
