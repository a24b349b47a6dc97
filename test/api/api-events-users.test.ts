import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

type Ev = { UserId: string | null; Username: string | null; Category: string };

for (const engine of ENGINES) {
  describe(`${engine}: events filtered by user (users=)`, () => {
    let fx: ApiFixture;
    let adminId = '';
    let deployerId = '';
    let erinId = '';
    before(async () => {
      fx = await startApi(engine, 'apievusers');
      adminId = (await call(fx, 'GET', '/api/users/me')).body.Id;
      deployerId = (await call(fx, 'GET', '/api/users/me', undefined, fx.deployerKey)).body.Id;
      // the administrator's changes, a second administrator's, and the deployer's deployment
      const { envName } = await seedProject(fx, 'Audited');
      const erin = await call(fx, 'POST', '/api/users', { Username: 'erin', CuttleRole: 'administrator' });
      erinId = erin.body.Id;
      const erinKey = (await call(fx, 'POST', `/api/users/${erinId}/apikeys`, { Purpose: 'test' })).body
        .ApiKey;
      const env = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'By Erin' }, erinKey);
      assert.equal(env.status, 201, env.text);
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Audited' });
      const dep = await call(
        fx,
        'POST',
        '/api/Spaces-1/deployments/create/untenanted/v1',
        { ProjectName: 'Audited', ReleaseVersion: rel.body.ReleaseVersion, EnvironmentNames: [envName] },
        fx.deployerKey,
      );
      assert.equal(dep.status, 200, dep.text);
    });
    after(async () => fx?.close());

    const list = async (query: string) => {
      const r = await call(fx, 'GET', `/api/events?take=1000&${query}`);
      assert.equal(r.status, 200, r.text);
      return r.body as { TotalResults: number; Items: Ev[] };
    };

    it("returns only the user's events, on the global and the space route", async () => {
      const all = await list('');
      const byUser = (id: string) => all.Items.filter((e) => e.UserId === id).length;
      assert.ok(
        byUser(adminId) > 0 && byUser(deployerId) > 0 && byUser(erinId) > 0,
        'each user caused events',
      );
      for (const id of [adminId, deployerId, erinId]) {
        const page = await list(`users=${id}`);
        assert.ok(page.Items.length > 0);
        assert.deepEqual(
          page.Items.filter((e) => e.UserId !== id),
          [],
          `users=${id} answers only that user's events`,
        );
        assert.equal(page.TotalResults, byUser(id), 'TotalResults counts the filtered events');
      }
      const deployer = await list(`users=${deployerId}`);
      assert.ok(deployer.Items.some((e) => e.Category === 'DeploymentQueued' && e.Username === 'deployer'));
      const inSpace = await call(fx, 'GET', `/api/Spaces-1/events?take=1000&users=${erinId}`);
      assert.equal(inSpace.status, 200);
      assert.ok(inSpace.body.Items.length > 0);
      assert.ok(inSpace.body.Items.every((e: Ev) => e.UserId === erinId));
    });

    it('takes several users, comma-separated or as repeated keys, and combines with the other filters', async () => {
      const expected = (await list('')).Items.filter(
        (e) => e.UserId === adminId || e.UserId === erinId,
      ).length;
      assert.equal((await list(`users=${adminId},${erinId}`)).TotalResults, expected);
      assert.equal((await list(`users=${adminId}&users=${erinId}`)).TotalResults, expected);
      const created = await list(`users=${erinId}&eventCategories=Created`);
      assert.ok(created.Items.length > 0);
      assert.ok(created.Items.every((e) => e.UserId === erinId && e.Category === 'Created'));
      assert.equal((await list(`users=${deployerId}&eventCategories=Created`)).TotalResults, 0);
    });

    it('an unknown user id matches no event (an empty list, as Octopus answers); an empty users= filters nothing', async () => {
      const unknown = await list('users=Users-999999');
      assert.equal(unknown.TotalResults, 0);
      assert.deepEqual(unknown.Items, []);
      const mixed = await list(`users=Users-999999,${erinId}`);
      assert.ok(mixed.Items.length > 0 && mixed.Items.every((e) => e.UserId === erinId));
      assert.equal((await list('users=')).TotalResults, (await list('')).TotalResults);
    });
  });
}
