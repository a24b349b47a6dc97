import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

for (const engine of ENGINES) {
  describe(`${engine}: API authentication and roles`, () => {
    let fx: ApiFixture;
    before(async () => {
      fx = await startApi(engine, 'apiauth');
    });
    after(async () => fx?.close());

    it('refuses requests without a key or with a wrong key (401)', async () => {
      const none = await call(fx, 'GET', '/api/spaces', undefined, null);
      assert.equal(none.status, 401);
      assert.ok(none.body.ErrorMessage);
      const empty = await call(fx, 'GET', '/api/spaces', undefined, '');
      assert.equal(empty.status, 401);
      const wrong = await call(fx, 'GET', '/api/spaces', undefined, 'API-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(wrong.status, 401);
      assert.ok(!wrong.text.includes('API-AAAA'), 'the key is not echoed');
    });

    it('accepts Authorization: Bearer', async () => {
      const r = await fx.app.inject({
        method: 'GET',
        url: '/api/users/me',
        headers: { authorization: `Bearer ${fx.adminKey}` },
      });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().Username, 'admin');
    });

    it('GET /api/users/me answers the caller', async () => {
      const me = await call(fx, 'GET', '/api/users/me', undefined, fx.deployerKey);
      assert.equal(me.body.Username, 'deployer');
      assert.equal(me.body.CuttleRole, 'deployer');
      assert.deepEqual(me.body.Identities, []);
      assert.equal(me.body.IsActive, true);
      assert.equal(me.body.password_hash, undefined);
    });

    it('lets a deployer read, release and deploy, but not administer (403)', async () => {
      const { envName } = await seedProject(fx, 'Roles');
      const d = fx.deployerKey;
      assert.equal((await call(fx, 'GET', '/api/Spaces-1/projects', undefined, d)).status, 200);
      assert.equal((await call(fx, 'GET', '/api/events', undefined, d)).status, 200);
      assert.equal((await call(fx, 'POST', '/api/spaces', { Name: 'Nope' }, d)).status, 403);
      assert.equal((await call(fx, 'DELETE', '/api/spaces/Spaces-1', undefined, d)).status, 403);
      assert.equal((await call(fx, 'POST', '/api/users', { Username: 'x' }, d)).status, 403);
      assert.equal(
        (await call(fx, 'PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: true }, d)).status,
        403,
      );
      assert.equal((await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'E' }, d)).status, 403);
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Roles' }, d);
      assert.equal(rel.status, 200);
      const dep = await call(
        fx,
        'POST',
        '/api/Spaces-1/deployments/create/untenanted/v1',
        { ProjectName: 'Roles', ReleaseVersion: rel.body.ReleaseVersion, EnvironmentNames: [envName] },
        d,
      );
      assert.equal(dep.status, 200);
      const events = await call(
        fx,
        'GET',
        `/api/events?regarding=${dep.body.DeploymentServerTasks[0].DeploymentId}`,
      );
      assert.equal(events.body.Items[0].Category, 'DeploymentQueued');
      assert.equal(events.body.Items[0].Username, 'deployer');
    });

    it('creates users and API keys over REST; a key is shown once and works', async () => {
      const u = await call(fx, 'POST', '/api/users', {
        Username: 'carol',
        Password: 'correct horse',
        CuttleRole: 'deployer',
      });
      assert.equal(u.status, 201);
      assert.equal(u.body.Password, undefined);
      const k = await call(fx, 'POST', `/api/users/${u.body.Id}/apikeys`, { Purpose: 'ci' });
      assert.equal(k.status, 201);
      assert.match(k.body.ApiKey, /^API-[A-Z0-9]{26,}$/);
      const me = await call(fx, 'GET', '/api/users/me', undefined, k.body.ApiKey);
      assert.equal(me.body.Username, 'carol');
      const listed = await call(fx, 'GET', `/api/users/${u.body.Id}/apikeys`);
      assert.equal(listed.body.Items.length, 1);
      assert.equal(listed.body.Items[0].ApiKey, null, 'never shown again');
      const own = await call(
        fx,
        'POST',
        `/api/users/${u.body.Id}/apikeys`,
        { Purpose: 'mine' },
        k.body.ApiKey,
      );
      assert.equal(own.status, 201, 'a user may create its own keys');
      const other = await call(fx, 'POST', '/api/users/Users-1/apikeys', {}, k.body.ApiKey);
      assert.equal(other.status, 403);
      const stored = await fx.storage.db.selectFrom('api_keys').select('key_hash').execute();
      assert.ok(
        stored.every((r) => !r.key_hash.startsWith('API-')),
        'keys are stored hashed',
      );
      const pw = await fx.storage.db
        .selectFrom('users')
        .select('password_hash')
        .where('username', '=', 'carol')
        .executeTakeFirst();
      assert.match(pw!.password_hash!, /^scrypt\$/);
      assert.equal((await call(fx, 'POST', '/api/users', { Username: 'CAROL' })).status, 409);
    });

    it('answers the load balancer ping: 200, then 418 while draining', async () => {
      assert.equal((await call(fx, 'GET', '/api/octopusservernodes/ping', undefined, null)).status, 200);
      fx.draining.value = true;
      try {
        assert.equal((await call(fx, 'GET', '/api/octopusservernodes/ping', undefined, null)).status, 418);
      } finally {
        fx.draining.value = false;
      }
    });
  });
}
