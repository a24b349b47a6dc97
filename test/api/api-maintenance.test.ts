import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setMaintenance } from '../../src/core/maintenance-service.js';
import { MAINTENANCE_CACHE_MS } from '../../src/server/maintenance-gate.js';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';
import { ManualClock } from '../helpers/manual-clock.js';

for (const engine of ENGINES) {
  describe(`${engine}: maintenance mode`, () => {
    let fx: ApiFixture;
    // The server's caches run on this clock: time passes only when a test moves it.
    const clock = new ManualClock();
    before(async () => {
      fx = await startApi(engine, 'apimaint', { clock });
    });
    after(async () => fx?.close());

    it('blocks non-administrator changes, keeps reads and administrators working', async () => {
      const { envName } = await seedProject(fx, 'Maint');
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Maint' });
      const before = await call(fx, 'GET', '/api/maintenanceconfiguration');
      assert.equal(before.body.IsInMaintenanceMode, false);

      const on = await call(fx, 'PUT', '/api/maintenanceconfiguration', {
        Id: 'maintenance',
        IsInMaintenanceMode: true,
      });
      assert.equal(on.status, 200);
      assert.equal(on.body.IsInMaintenanceMode, true);
      assert.equal(on.body.LastModifiedBy, 'admin');
      const status = await call(fx, 'GET', '/api/serverstatus', undefined, fx.deployerKey);
      assert.equal(status.body.Id, 'ServerStatus');
      assert.equal(status.body.IsInMaintenanceMode, true);
      assert.equal(status.body.IsPotentialClone, false);

      const deploy = {
        ProjectName: 'Maint',
        ReleaseVersion: rel.body.ReleaseVersion,
        EnvironmentNames: [envName],
      };
      const refused = await call(
        fx,
        'POST',
        '/api/Spaces-1/deployments/create/untenanted/v1',
        deploy,
        fx.deployerKey,
      );
      assert.equal(refused.status, 409);
      assert.match(refused.body.ErrorMessage, /maintenance mode/);
      const relRefused = await call(
        fx,
        'POST',
        '/api/Spaces-1/releases/create/v1',
        { ProjectName: 'Maint' },
        fx.deployerKey,
      );
      assert.equal(relRefused.status, 409);
      const tasksBefore = await fx.storage.db.selectFrom('server_tasks').select('id').execute();
      assert.equal(tasksBefore.length, 0, 'nothing was queued');

      assert.equal(
        (await call(fx, 'GET', '/api/Spaces-1/tasks?take=300', undefined, fx.deployerKey)).status,
        200,
      );
      assert.equal((await call(fx, 'GET', '/api/Spaces-1/projects', undefined, fx.deployerKey)).status, 200);
      assert.equal((await call(fx, 'GET', '/api/events', undefined, fx.deployerKey)).status, 200);

      const admin = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', deploy);
      assert.equal(admin.status, 200, 'administrators keep full rights');

      const off = await call(fx, 'PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: false });
      assert.equal(off.body.IsInMaintenanceMode, false);
      const allowed = await call(
        fx,
        'POST',
        '/api/Spaces-1/deployments/create/untenanted/v1',
        deploy,
        fx.deployerKey,
      );
      assert.equal(allowed.status, 200);

      const events = await call(fx, 'GET', '/api/events?eventCategories=Modified&take=100');
      const toggles = events.body.Items.filter((e: { Message: string }) =>
        e.Message.startsWith('Maintenance Configuration'),
      );
      assert.equal(toggles.length, 2);
      assert.equal(toggles[0].Username, 'admin');
    });

    it('notices a change made directly in the database (the CLI) within a second', async () => {
      const status = async () => (await call(fx, 'GET', '/api/serverstatus')).body.IsInMaintenanceMode;
      assert.equal(await status(), false);
      await setMaintenance(fx.storage.db, true, 'cli-user (command line)');
      // Not written through the server: its cached state stands until its lifetime has passed.
      assert.equal(await status(), false, 'answered from the cache');
      clock.advance(MAINTENANCE_CACHE_MS);
      const s = await call(fx, 'GET', '/api/serverstatus');
      assert.equal(s.body.IsInMaintenanceMode, true);
      assert.equal(s.body.LastModifiedBy, 'cli-user (command line)');
      const r = await call(
        fx,
        'POST',
        '/api/Spaces-1/releases/create/v1',
        { ProjectName: 'Maint' },
        fx.deployerKey,
      );
      assert.equal(r.status, 409);
      await setMaintenance(fx.storage.db, false, 'cli-user (command line)');
      clock.advance(MAINTENANCE_CACHE_MS);
      const ok = await call(
        fx,
        'POST',
        '/api/Spaces-1/releases/create/v1',
        { ProjectName: 'Maint' },
        fx.deployerKey,
      );
      assert.equal(ok.status, 200);
    });
  });
}
