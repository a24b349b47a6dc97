import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/actor.js';
import { createUser } from '../../src/core/user-service.js';
import { type ApiFixture, call, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

for (const engine of ENGINES) {
  describe(`${engine}: server nodes, master key reveal, database info`, () => {
    let fx: ApiFixture;
    before(async () => {
      fx = await startApi(engine, 'portaladmin');
      await createUser(fx.storage.db, SYSTEM_ACTOR, {
        username: 'root2',
        role: 'administrator',
        password: 'admin password 2',
      });
      const now = new Date().toISOString();
      await fx.storage.db
        .insertInto('server_nodes')
        .values({
          id: 'node-x',
          name: 'node-x',
          host: 'h',
          version: '0',
          status: 'live',
          draining: false,
          task_cap: 5,
          running_tasks: 1,
          started: now,
          last_seen: now,
          change_number: 1,
        })
        .execute();
    });
    after(async () => fx?.close());

    it('GET/PUT /api/octopusservernodes: the drain switch in Octopus shape, stored for the node to apply; deployers 403', async () => {
      const list = await call(fx, 'GET', '/api/octopusservernodes');
      assert.equal(list.status, 200, list.text);
      const n = list.body.Items.find((x: { Id: string }) => x.Id === 'node-x');
      assert.equal(n.IsInMaintenanceMode, false);
      assert.equal(n.IsOffline, false);
      assert.equal(n.MaxConcurrentTasks, 5);
      assert.equal(n.RunningTasks, 1);
      assert.equal(n.Rank, 'Leader');
      const denied = await call(
        fx,
        'PUT',
        '/api/octopusservernodes/node-x',
        { IsInMaintenanceMode: true },
        fx.deployerKey,
      );
      assert.equal(denied.status, 403);
      const on = await call(fx, 'PUT', '/api/octopusservernodes/node-x', {
        IsInMaintenanceMode: true,
        MaxConcurrentTasks: 2,
      });
      assert.equal(on.status, 200, on.text);
      assert.equal(on.body.IsInMaintenanceMode, true);
      assert.equal(on.body.MaxConcurrentTasks, 2);
      assert.equal(on.body.DrainModifiedBy, 'admin');
      const { readNodeDrain } = await import('../../src/core/node-service.js');
      assert.equal((await readNodeDrain(fx.storage.db, 'node-x')).IsInMaintenanceMode, true);
      const bad = await call(fx, 'PUT', '/api/octopusservernodes/node-x', { MaxConcurrentTasks: -1 });
      assert.equal(bad.status, 400);
      assert.equal(
        (await call(fx, 'PUT', '/api/octopusservernodes/nope', { IsInMaintenanceMode: true })).status,
        404,
      );
    });

    it('POST /api/admin/masterkey/reveal: the key only after the right password, 403 otherwise, audited', async () => {
      const { signIn } = await import('../../src/core/session-service.js');
      const { session } = await signIn(fx.storage.db, { username: 'root2', password: 'admin password 2' });
      assert.ok(session.actor.userId);
      // through an API key of that user: the password is still asked for
      const { addApiKey } = await import('../../src/core/user-service.js');
      const { key } = await addApiKey(fx.storage.db, SYSTEM_ACTOR, session.actor.userId!, 'reveal');
      const wrong = await call(fx, 'POST', '/api/admin/masterkey/reveal', { Password: 'nope' }, key);
      assert.equal(wrong.status, 403, wrong.text);
      assert.ok(!wrong.text.includes(fx.key.toBase64()));
      const right = await call(
        fx,
        'POST',
        '/api/admin/masterkey/reveal',
        { Password: 'admin password 2' },
        key,
      );
      assert.equal(right.status, 200, right.text);
      assert.equal(right.body.MasterKey, fx.key.toBase64());
      assert.equal(right.headers['cache-control'], 'no-store');
      const dep = await call(fx, 'POST', '/api/admin/masterkey/reveal', { Password: 'x' }, fx.deployerKey);
      assert.equal(dep.status, 403);
      const events = await call(fx, 'GET', '/api/events?eventCategories=MasterKeyShown');
      assert.equal(events.body.Items.length, 1);
    });

    it('GET /api/admin/database refuses deployers, and says how to proceed on a server without an instance config', async () => {
      assert.equal((await call(fx, 'GET', '/api/admin/database', undefined, fx.deployerKey)).status, 403);
      const r = await call(fx, 'GET', '/api/admin/database');
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.ErrorMessage, /no instance config/);
      assert.equal(
        (await call(fx, 'GET', '/api/admin/backups/download/x.tar.gz', undefined, fx.deployerKey)).status,
        403,
      );
      assert.equal((await call(fx, 'GET', '/api/admin/backups/download/x.tar.gz')).status, 404);
      assert.equal((await call(fx, 'GET', '/api/admin/backups/download/..%2Fcuttle.db')).status, 400);
    });
  });
}
