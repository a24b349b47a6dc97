import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ApiFixture,
  call,
  seedProject,
  startApi,
  startExecutor,
  waitForEvent,
  waitForTask,
} from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

const SECRET = 'S3cr3t-Value-42xyz';
const PROP_SECRET = 'Pr0p-Secret-77abc';

for (const engine of ENGINES) {
  describe(`${engine}: sensitive values, task logs and events`, () => {
    let fx: ApiFixture;
    let executor: { stop(): Promise<void> };
    const answers: string[] = [];
    const get = async (url: string) => {
      const r = await call(fx, 'GET', url);
      answers.push(r.text);
      return r;
    };
    before(async () => {
      fx = await startApi(engine, 'apisecret');
      executor = await startExecutor(fx);
    });
    after(async () => {
      await executor?.stop();
      await fx?.close();
    });

    it('stores sensitive variables sealed and never returns them', async () => {
      const { projectId } = await seedProject(
        fx,
        'Secretive',
        'echo "pw=#{DbPassword} env=#{Octopus.Environment.Name} plain=#{Plain}"',
      );
      const put = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}/variables`, {
        Variables: [
          { Name: 'DbPassword', Value: SECRET, IsSensitive: true, Type: 'Sensitive' },
          { Name: 'Plain', Value: 'visible' },
        ],
      });
      answers.push(put.text);
      assert.equal(put.status, 200);
      const v = await get(`/api/Spaces-1/projects/${projectId}/variables`);
      const pw = v.body.Variables.find((x: { Name: string }) => x.Name === 'DbPassword');
      assert.equal(pw.Value, null);
      assert.equal(pw.IsSensitive, true);
      assert.equal(v.body.Variables.find((x: { Name: string }) => x.Name === 'Plain').Value, 'visible');
      // Round-trip as a client does: the sensitive value comes back null and must be kept.
      const again = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}/variables`, v.body);
      assert.equal(again.status, 200);
      const rows = await fx.storage.db.selectFrom('variables').select(['name', 'value']).execute();
      const stored = rows.find((r) => r.name === 'DbPassword')!;
      assert.match(stored.value!, /^cuttle1\./);
      assert.ok(!stored.value!.includes(SECRET));

      const proc = await get(`/api/Spaces-1/projects/${projectId}/deploymentprocesses`);
      proc.body.Steps[0].Actions[0].Properties.ApiToken = { HasValue: true, NewValue: PROP_SECRET };
      proc.body.Steps[0].Actions[0].Properties['Octopus.Action.Script.ScriptBody'] =
        'echo "pw=#{DbPassword} plain=#{Plain} env=#{Octopus.Environment.Name}"; echo "token=$TOKEN_HINT"';
      const saved = await call(
        fx,
        'PUT',
        `/api/Spaces-1/projects/${projectId}/deploymentprocesses`,
        proc.body,
      );
      answers.push(saved.text);
      assert.deepEqual(saved.body.Steps[0].Actions[0].Properties.ApiToken, {
        HasValue: true,
        NewValue: null,
      });
      const stepRow = await fx.storage.db.selectFrom('deployment_processes').select('json').execute();
      assert.ok(stepRow.every((r) => !r.json.includes(PROP_SECRET)));
    });

    it('runs a deployment: output in raw log and details, secrets masked, events regarding it', async () => {
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Secretive' });
      const relRow = await fx.storage.db.selectFrom('releases').selectAll().execute();
      assert.ok(relRow.every((r) => !r.variables_snapshot_json.includes(SECRET)));
      const dep = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        ProjectName: 'Secretive',
        ReleaseVersion: rel.body.ReleaseVersion,
        EnvironmentNames: ['Secretive-env'],
      });
      const { DeploymentId, ServerTaskId } = dep.body.DeploymentServerTasks[0];
      const task = await waitForTask(fx, ServerTaskId);
      assert.equal(task.State, 'Success', task.ErrorMessage);
      assert.equal(task.FinishedSuccessfully, true);
      const raw = await get(`/api/Spaces-1/tasks/${ServerTaskId}/raw`);
      assert.match(raw.text, /pw=\*+ plain=visible env=Secretive-env/);
      const details = await get(`/api/Spaces-1/tasks/${ServerTaskId}/details`);
      const root = details.body.ActivityLogs[0];
      assert.equal(root.Id, ServerTaskId);
      const step = root.Children[0];
      assert.match(step.Name, /Greet/);
      assert.equal(step.Status, 'Success');
      const action = step.Children[0];
      assert.ok(
        action.LogElements.some((l: { MessageText: string }) => l.MessageText.includes('plain=visible')),
      );
      const logRows = await fx.storage.db.selectFrom('task_log_chunks').select('text').execute();
      assert.ok(
        logRows.every((r) => !r.text.includes(SECRET)),
        'the secret never reaches the log table',
      );

      await waitForEvent(fx, DeploymentId, 'DeploymentSucceeded');
      const events = await get(`/api/Spaces-1/events?regarding=${DeploymentId}`);
      const categories = events.body.Items.map((e: { Category: string }) => e.Category);
      assert.deepEqual(
        [...categories].sort(),
        ['DeploymentQueued', 'DeploymentStarted', 'DeploymentSucceeded'].sort(),
      );
      assert.equal(categories.at(-1), 'DeploymentQueued', 'newest first');
      const byTask = await get(`/api/events?regarding=${ServerTaskId}&take=1`);
      assert.equal(byTask.body.Items.length, 1);
      assert.equal(byTask.body.TotalResults, 3);
    });

    it('fails a task whose script exits non-zero', async () => {
      const { projectId, envName } = await seedProject(fx, 'Failing', 'echo before; exit 3');
      const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: projectId });
      const dep = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
        ProjectName: 'Failing',
        ReleaseVersion: rel.body.ReleaseVersion,
        EnvironmentNames: [envName],
      });
      const { DeploymentId, ServerTaskId } = dep.body.DeploymentServerTasks[0];
      const task = await waitForTask(fx, ServerTaskId);
      assert.equal(task.State, 'Failed');
      assert.equal(task.IsCompleted, true);
      const raw = await get(`/api/Spaces-1/tasks/${ServerTaskId}/raw`);
      assert.match(raw.text, /before/);
      assert.match(raw.text, /exit code 3/);
      await waitForEvent(fx, DeploymentId, 'DeploymentFailed');
      const events = await get(`/api/events?regarding=${DeploymentId}`);
      assert.equal(events.body.Items[0].Category, 'DeploymentFailed');
    });

    it('never answered a secret in clear', () => {
      for (const a of answers) {
        assert.ok(!a.includes(SECRET), 'variable secret leaked');
        assert.ok(!a.includes(PROP_SECRET), 'property secret leaked');
      }
    });
  });
}
