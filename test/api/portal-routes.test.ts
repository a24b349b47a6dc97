import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ApiFixture,
  call,
  seedProject,
  startApi,
  startExecutor,
  waitForTask,
} from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

for (const engine of ENGINES) {
  describe(`${engine}: the portal's read doors (dashboard, deploy template, task search, task stream)`, () => {
    let fx: ApiFixture;
    let executor: { stop(): Promise<void> };
    let seeded: Awaited<ReturnType<typeof seedProject>>;
    let taskId = '';
    before(async () => {
      fx = await startApi(engine, 'portalroutes');
      executor = await startExecutor(fx);
      seeded = await seedProject(fx, 'Portal', 'echo "one"; echo "two"');
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
        ProjectName: 'Portal',
        ReleaseVersion: '2.0.0',
      });
      assert.equal(rel.status, 200, rel.text);
      const dep = await call(fx, 'POST', '/api/Spaces-1/deployments', {
        ReleaseId: rel.body.ReleaseId ?? rel.body.Id,
        EnvironmentId: seeded.environmentId,
      });
      assert.equal(dep.status, 201, dep.text);
      taskId = dep.body.TaskId;
      await waitForTask(fx, taskId);
    });
    after(async () => {
      await executor?.stop();
      await fx?.close();
    });

    it('GET /api/{space}/dashboard: the latest deployment per project and environment', async () => {
      const d = await call(fx, 'GET', '/api/Spaces-1/dashboard');
      assert.equal(d.status, 200, d.text);
      assert.ok(d.body.Projects.some((p: { Name: string }) => p.Name === 'Portal'));
      const item = d.body.Items.find((i: { ProjectId: string }) => i.ProjectId === seeded.projectId);
      assert.equal(item.ReleaseVersion, '2.0.0');
      assert.equal(item.State, 'Success');
      assert.equal(item.TaskId, taskId);
      assert.equal(item.EnvironmentId, seeded.environmentId);
      assert.equal((await call(fx, 'GET', '/api/Spaces-9/dashboard')).status, 404);
    });

    it('GET /api/{space}/releases/{id}/deployments/template: the environments the lifecycle allows', async () => {
      const releases = await call(fx, 'GET', `/api/Spaces-1/projects/${seeded.projectId}/releases`);
      const r = await call(
        fx,
        'GET',
        `/api/Spaces-1/releases/${releases.body.Items[0].Id}/deployments/template`,
      );
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.PromoteTo.some((e: { Id: string }) => e.Id === seeded.environmentId));
      assert.equal(
        (await call(fx, 'GET', '/api/Spaces-1/releases/Releases-999/deployments/template')).status,
        404,
      );
    });

    it('GET /api/{space}/tasks/search filters by state, project, environment and date; bad dates are 400', async () => {
      const byProject = await call(fx, 'GET', `/api/Spaces-1/tasks/search?project=${seeded.projectId}`);
      assert.equal(byProject.status, 200, byProject.text);
      assert.deepEqual(
        byProject.body.Items.map((t: { Id: string }) => t.Id),
        [taskId],
      );
      const other = await call(fx, 'GET', '/api/Spaces-1/tasks/search?project=Projects-999');
      assert.equal(other.body.TotalResults, 0);
      const failed = await call(
        fx,
        'GET',
        `/api/Spaces-1/tasks/search?states=Failed&environment=${seeded.environmentId}`,
      );
      assert.equal(failed.body.TotalResults, 0);
      const future = await call(fx, 'GET', '/api/Spaces-1/tasks/search?fromQueueDate=2999-01-01');
      assert.equal(future.body.TotalResults, 0);
      const bad = await call(fx, 'GET', '/api/Spaces-1/tasks/search?fromQueueDate=yesterday-ish');
      assert.equal(bad.status, 400);
      assert.match(bad.body.ErrorMessage, /fromQueueDate/);
    });

    it('GET /api/portal/tasks/{id}/stream sends the task, its log lines and the end; unknown tasks are 404', async () => {
      const address = await fx.app.listen({ host: '127.0.0.1', port: 0 });
      const r = await fetch(`${address}/api/portal/tasks/${taskId}/stream`, {
        headers: { 'X-Octopus-ApiKey': fx.adminKey },
      });
      assert.equal(r.status, 200);
      assert.match(String(r.headers.get('content-type')), /text\/event-stream/);
      const text = await r.text(); // the stream ends after `end`, the task being completed
      assert.match(text, /event: task\n/);
      assert.match(text, /event: lines\n.*two/s);
      assert.match(text, /event: end\n/);
      const after = await fetch(`${address}/api/portal/tasks/${taskId}/stream?after=100000`, {
        headers: { 'X-Octopus-ApiKey': fx.adminKey },
      });
      assert.doesNotMatch(await after.text(), /event: lines/, 'nothing after the last chunk the page has');
      const missing = await fetch(`${address}/api/portal/tasks/ServerTasks-999/stream`, {
        headers: { 'X-Octopus-ApiKey': fx.adminKey },
      });
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).ErrorMessage, /does not exist/);
      const anon = await fetch(`${address}/api/portal/tasks/${taskId}/stream`);
      assert.equal(anon.status, 401);
    });
  });
}
