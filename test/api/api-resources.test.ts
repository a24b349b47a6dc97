import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

for (const engine of ENGINES) {
  describe(`${engine}: API resources in Octopus shapes`, () => {
    let fx: ApiFixture;
    before(async () => {
      fx = await startApi(engine, 'apires');
    });
    after(async () => fx?.close());

    it('GET /api answers anonymously with a semver Version and the installation id', async () => {
      const r = await call(fx, 'GET', '/api', undefined, null);
      assert.equal(r.status, 200);
      assert.equal(r.body.Application, 'Octopus Deploy');
      assert.equal(r.body.Version, '2024.1.0');
      assert.equal(r.body.ApiVersion, '3.0.0');
      assert.equal(r.body.InstallationId, 'test-installation');
      assert.match(r.body.CuttleVersion, /^\d+\.\d+\.\d+/);
    });

    it('resolves the Default space the way the client does, and seeds new spaces', async () => {
      const r = await call(fx, 'GET', '/api/spaces?partialName=defa&skip=0&take=2147483647');
      assert.equal(r.status, 200);
      assert.equal(r.body.TotalResults, 1);
      assert.deepEqual(
        Object.keys(r.body).sort(),
        [
          'ItemType',
          'Items',
          'ItemsPerPage',
          'LastPageNumber',
          'Links',
          'NumberOfPages',
          'TotalResults',
        ].sort(),
      );
      assert.equal(r.body.Items[0].Id, 'Spaces-1');
      assert.equal(r.body.Items[0].IsDefault, true);
      const created = await call(fx, 'POST', '/api/spaces', {
        Name: 'Second',
        IsDefault: false,
        SpaceManagersTeams: [],
        SpaceManagersTeamMembers: ['Users-1'],
      });
      assert.equal(created.status, 201);
      const id = created.body.Id;
      assert.match(id, /^Spaces-\d+$/);
      const groups = await call(fx, 'GET', `/api/${id}/projectgroups?take=1`);
      const lifecycles = await call(fx, 'GET', `/api/${id}/lifecycles?take=1`);
      assert.equal(groups.body.Items[0].Name, 'Default Project Group');
      assert.equal(lifecycles.body.Items[0].Name, 'Default Lifecycle');
      const dup = await call(fx, 'POST', '/api/spaces', { Name: 'second' });
      assert.equal(dup.status, 409);
      assert.ok(dup.body.ErrorMessage);
      assert.ok(Array.isArray(dup.body.Errors));
      const put = await call(fx, 'PUT', `/api/spaces/${id}`, { ...created.body, TaskQueueStopped: true });
      assert.equal(put.body.TaskQueueStopped, true);
      assert.deepEqual(put.body.SpaceManagersTeamMembers, ['Users-1']);
      assert.equal((await call(fx, 'DELETE', `/api/spaces/${id}`)).status, 200);
      assert.equal((await call(fx, 'GET', `/api/spaces/${id}`)).status, 404);
      assert.equal((await call(fx, 'GET', `/api/${id}/environments`)).status, 404);
      assert.equal((await call(fx, 'DELETE', '/api/spaces/Spaces-1')).status, 409);
    });

    it('lists, gets, modifies and deletes environments', async () => {
      const a = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'Alpha', Description: 'first' });
      const b = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'Beta' });
      assert.equal(a.status, 201);
      assert.equal(a.body.SpaceId, 'Spaces-1');
      assert.equal((await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'ALPHA' })).status, 409);
      const list = await call(fx, 'GET', `/api/Spaces-1/environments?ids=${a.body.Id},${b.body.Id}`);
      assert.deepEqual(
        list.body.Items.map((e: { Name: string }) => e.Name),
        ['Alpha', 'Beta'],
      );
      const partial = await call(fx, 'GET', '/api/Spaces-1/environments?partialName=LPH');
      assert.equal(partial.body.TotalResults, 1);
      const paged = await call(fx, 'GET', '/api/Spaces-1/environments?skip=1&take=1');
      assert.equal(paged.body.Items.length, 1);
      assert.equal(paged.body.ItemsPerPage, 1);
      const mod = await call(fx, 'PUT', `/api/Spaces-1/environments/${a.body.Id}`, {
        ...a.body,
        Name: 'Alpha2',
      });
      assert.equal(mod.body.Name, 'Alpha2');
      assert.equal(mod.body.Description, 'first');
      assert.equal((await call(fx, 'DELETE', `/api/Spaces-1/environments/${b.body.Id}`)).status, 200);
      assert.equal((await call(fx, 'GET', `/api/Spaces-1/environments/${b.body.Id}`)).status, 404);
      const none = await call(fx, 'GET', '/api/Spaces-1/environments?ids=Environments-9999');
      assert.equal(none.status, 200);
      assert.equal(none.body.TotalResults, 0);
    });

    it('creates a project with its process, versions the process and fills step ids', async () => {
      const { projectId } = await seedProject(fx, 'Shapes');
      const p = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}`);
      assert.equal(p.body.DeploymentProcessId, `deploymentprocess-${projectId}`);
      assert.equal((await call(fx, 'GET', '/api/Spaces-1/projects/shapes')).body.Id, projectId, 'by slug');
      const proc = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}/deploymentprocesses`);
      assert.equal(proc.body.Version, 1);
      assert.ok(proc.body.Steps[0].Id);
      assert.ok(proc.body.Steps[0].Actions[0].Id);
      assert.equal(proc.body.Steps[0].Condition, 'Success');
      const stale = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}/deploymentprocesses`, {
        ...proc.body,
        Version: 0,
      });
      assert.equal(stale.status, 409);
      const again = await call(
        fx,
        'PUT',
        `/api/Spaces-1/projects/${projectId}/deploymentprocesses`,
        proc.body,
      );
      assert.equal(again.body.Version, 2);
      assert.equal(again.body.Steps[0].Actions[0].Id, proc.body.Steps[0].Actions[0].Id, 'ids are kept');
      const mod = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}`, {
        ...p.body,
        Description: 'd',
      });
      assert.equal(mod.body.Description, 'd');
      assert.equal(p.body.RetryOnNodeFailure, false, 'a step is not run again after a node died by default');
      const optIn = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}`, {
        RetryOnNodeFailure: true,
      });
      assert.equal(optIn.status, 200, optIn.text);
      assert.equal(optIn.body.RetryOnNodeFailure, true);
      const kept = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}`, { Description: 'e' });
      assert.equal(kept.body.RetryOnNodeFailure, true, 'a PUT without it keeps it');
      const wrong = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}`, {
        RetryOnNodeFailure: 'yes',
      });
      assert.equal(wrong.status, 400, wrong.text);
      const read = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}`);
      assert.equal(read.body.RetryOnNodeFailure, true, 'the refused PUT changed nothing');
      assert.equal(read.body.Description, 'e');
      const bad = await call(fx, 'POST', '/api/Spaces-1/projects', {
        Name: 'X',
        ProjectGroupId: 'nope',
        LifecycleId: 'nope',
      });
      assert.equal(bad.status, 400);
    });

    it('creates releases 0.0.N, snapshots the process, and lists/modifies/deletes them', async () => {
      const { projectId } = await seedProject(fx, 'Rel');
      const r1 = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
        spaceId: 'Spaces-1',
        spaceIdOrName: 'Default',
        ProjectName: 'Rel',
      });
      assert.equal(r1.status, 200);
      assert.equal(r1.body.ReleaseVersion, '0.0.1');
      const r2 = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { projectname: 'rel' });
      assert.equal(r2.body.ReleaseVersion, '0.0.2');
      const r3 = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
        ProjectName: 'Rel',
        ReleaseVersion: '1.2.3',
      });
      assert.equal(r3.body.ReleaseVersion, '1.2.3');
      const dup = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
        ProjectName: 'Rel',
        ReleaseVersion: '1.2.3',
      });
      assert.equal(dup.status, 409);
      const release = await call(fx, 'GET', `/api/Spaces-1/releases/${r1.body.ReleaseId}`);
      assert.equal(release.body.ProjectId, projectId);
      assert.ok(release.body.ProjectDeploymentProcessSnapshotId);
      assert.ok(release.body.ChannelId.startsWith('Channels-'));
      const list = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}/releases`);
      assert.equal(list.body.TotalResults, 3);
      const mod = await call(fx, 'PUT', `/api/Spaces-1/releases/${r3.body.ReleaseId}`, {
        ReleaseNotes: 'notes',
      });
      assert.equal(mod.body.ReleaseNotes, 'notes');
      assert.equal((await call(fx, 'DELETE', `/api/Spaces-1/releases/${r3.body.ReleaseId}`)).status, 200);
      assert.equal((await call(fx, 'GET', `/api/Spaces-1/releases/${r3.body.ReleaseId}`)).status, 404);
      assert.equal(
        (await call(fx, 'DELETE', `/api/Spaces-1/projects/${projectId}`)).status,
        409,
        'has releases',
      );
    });

    it('queues one deployment and one task per environment, readable by ids', async () => {
      const { envName } = await seedProject(fx, 'Dep');
      const env2 = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'Dep-env-2' });
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Dep' });
      const d = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        spaceId: 'Spaces-1',
        ProjectName: 'dep',
        ReleaseVersion: rel.body.ReleaseVersion,
        EnvironmentNames: [envName, env2.body.Id],
      });
      assert.equal(d.status, 200);
      assert.equal(d.body.DeploymentServerTasks.length, 2);
      const ids = d.body.DeploymentServerTasks.map((t: { DeploymentId: string }) => t.DeploymentId);
      const list = await call(fx, 'GET', `/api/Spaces-1/deployments?ids=${ids[0]}`);
      assert.equal(list.body.Items.length, 1);
      assert.equal(list.body.Items[0].ReleaseId, rel.body.ReleaseId);
      const taskIds = d.body.DeploymentServerTasks.map((t: { ServerTaskId: string }) => t.ServerTaskId);
      const tasks = await call(fx, 'GET', `/api/Spaces-1/tasks?skip=0&take=300&ids=${taskIds.join(',')}`);
      assert.equal(tasks.body.Items.length, 2);
      for (const t of tasks.body.Items) {
        assert.equal(t.Name, 'Deploy');
        assert.equal(t.IsCompleted, false);
        assert.ok(['Queued', 'Executing', 'Success'].includes(t.State));
      }
      const one = await call(fx, 'GET', `/api/tasks/${taskIds[0]}`);
      assert.equal(one.body.Id, taskIds[0]);
      const details = await call(fx, 'GET', `/api/Spaces-1/tasks/${taskIds[0]}/details`);
      assert.equal(details.body.Task.Id, taskIds[0]);
      assert.equal(details.body.ActivityLogs[0].Id, taskIds[0]);
      const raw = await call(fx, 'GET', `/api/Spaces-1/tasks/${taskIds[0]}/raw`);
      assert.equal(raw.status, 200);
      assert.match(String(raw.headers['content-type']), /text\/plain/);
      const unknown = await call(fx, 'GET', '/api/Spaces-1/tasks?skip=0&take=300&ids=ServerTasks-99999');
      assert.equal(unknown.status, 200);
      assert.deepEqual(unknown.body.Items, []);
      const missing = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        ProjectName: 'Dep',
        ReleaseVersion: rel.body.ReleaseVersion,
        EnvironmentNames: ['nowhere'],
      });
      assert.equal(missing.status, 404);
      assert.match(missing.body.ErrorMessage, /nowhere/);
      const cancel = await call(fx, 'POST', `/api/tasks/${taskIds[1]}/cancel`, {});
      assert.equal(cancel.status, 200);
      assert.ok(['Canceled', 'Cancelling'].includes(cancel.body.State));
    });

    it('answers errors as {ErrorMessage, Errors}', async () => {
      const nf = await call(fx, 'GET', '/api/Spaces-1/projects/Projects-404');
      assert.equal(nf.status, 404);
      assert.equal(typeof nf.body.ErrorMessage, 'string');
      assert.deepEqual(nf.body.Errors, []);
      const route = await call(fx, 'GET', '/api/no/such/route/here');
      assert.equal(route.status, 404);
      assert.ok(route.body.ErrorMessage);
      const invalid = await call(fx, 'PUT', '/api/maintenanceconfiguration', {
        IsInMaintenanceMode: 'perhaps',
      });
      assert.equal(invalid.status, 400);
      assert.ok(invalid.body.Errors.length >= 1);
    });

    it('serves the OpenAPI document', async () => {
      const r = await call(fx, 'GET', '/api/openapi.json', undefined, null);
      assert.equal(r.status, 200);
      assert.ok(r.body.paths['/api/{spaceId}/deployments/create/untenanted/v1']);
    });
  });
}
