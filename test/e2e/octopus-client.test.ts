import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  DeploymentProcessRepository,
  DeploymentRepository,
  EnvironmentRepository,
  LifecycleRepository,
  NewProject,
  PackageRequirement,
  ProjectGroupRepository,
  ProjectRepository,
  ReleaseRepository,
  RunCondition,
  RunConditionForAction,
  ServerTaskWaiter,
  SpaceServerTaskRepository,
  StartTrigger,
} from '@octopusdeploy/api-client';
import { type ApiFixture, startApi, startExecutor, waitForEvent } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

/**
 * The official client (npm @octopusdeploy/api-client 3.11.0) against a listening Cuttle with
 * a running executor: the scripted flow of octopus-rest-subset.md §7 item 1, with a Bash step.
 * SQLite and PostgreSQL (the engines the executor is tested on); MySQL is covered by test/api.
 */
const silent = { debug() {}, info() {}, warn() {}, error() {} };

for (const engine of ENGINES.filter((e) => e !== 'mysql')) {
  describe(`${engine}: the official Octopus client drives Cuttle`, () => {
    let fx: ApiFixture;
    let executor: { stop(): Promise<void> };
    let url: string;
    before(async () => {
      fx = await startApi(engine, 'e2eclient');
      executor = await startExecutor(fx);
      await fx.app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await executor?.stop();
      await fx?.close();
    });

    it('connects, deploys a Bash step, reads logs and events, and honours maintenance mode', async () => {
      const client = await Client.create({
        instanceURL: url,
        apiKey: fx.adminKey,
        userAgentApp: 'cuttle-e2e',
        logging: silent,
      });
      const space = 'Default';
      const group = (await new ProjectGroupRepository(client, space).list({ take: 1 })).Items[0]!;
      const lifecycle = (await new LifecycleRepository(client, space).list({ take: 1 })).Items[0]!;
      const environment = await new EnvironmentRepository(client, space).create({ Name: `Dev-${engine}` });
      const project = await new ProjectRepository(client, space).create(
        NewProject(`Hello-${engine}`, group, lifecycle),
      );

      const processes = new DeploymentProcessRepository(client, space);
      const process = await processes.get(project);
      process.Steps = [
        {
          Id: '',
          Name: 'Say hello',
          Condition: RunCondition.Success,
          PackageRequirement: PackageRequirement.LetOctopusDecide,
          StartTrigger: StartTrigger.StartAfterPrevious,
          Properties: {},
          Actions: [
            {
              Id: '',
              Name: 'Say hello',
              ActionType: 'Octopus.Script',
              Notes: null,
              IsDisabled: false,
              CanBeUsedForProjectVersioning: false,
              IsRequired: false,
              WorkerPoolId: null,
              Container: { Image: null, FeedId: null },
              WorkerPoolVariable: '',
              Environments: [],
              ExcludedEnvironments: [],
              Channels: [],
              TenantTags: [],
              Packages: [],
              Condition: RunConditionForAction.Success,
              Properties: {
                'Octopus.Action.RunOnServer': 'true',
                'Octopus.Action.Script.ScriptSource': 'Inline',
                'Octopus.Action.Script.Syntax': 'Bash',
                'Octopus.Action.Script.ScriptBody':
                  'echo "Hello from #{Octopus.Project.Name} in #{Octopus.Environment.Name}"',
              },
            },
          ],
        },
      ];
      await processes.update(project, process);

      const release = await new ReleaseRepository(client, space).create({
        spaceName: space,
        ProjectName: project.Name,
      });
      assert.match(release.ReleaseVersion, /^0\.0\.\d+$/);
      const deployments = new DeploymentRepository(client, space);
      const queued = await deployments.create({
        spaceName: space,
        ProjectName: project.Name,
        ReleaseVersion: release.ReleaseVersion,
        EnvironmentNames: [environment.Name],
      });
      assert.equal(queued.DeploymentServerTasks.length, 1);
      const { DeploymentId, ServerTaskId } = queued.DeploymentServerTasks[0]!;
      assert.equal((await deployments.list({ ids: [DeploymentId] })).Items.length, 1);

      const [task] = await new ServerTaskWaiter(client, space).waitForServerTasksToComplete(
        [ServerTaskId],
        500,
        60_000,
      );
      assert.equal(task!.State, 'Success', task!.ErrorMessage);

      const tasks = new SpaceServerTaskRepository(client, space);
      const details = await tasks.getDetails(ServerTaskId);
      assert.equal(details.Task.Id, ServerTaskId);
      const text = JSON.stringify(details.ActivityLogs);
      assert.match(text, new RegExp(`Hello from Hello-${engine} in Dev-${engine}`));
      const raw = await tasks.getRaw(ServerTaskId);
      assert.match(raw, new RegExp(`Hello from Hello-${engine} in Dev-${engine}`));

      await waitForEvent(fx, DeploymentId, 'DeploymentSucceeded');
      const events = await client.request<{ Items: { Category: string }[] }>(
        '~/api/{spaceId}/events{?skip,take,regarding}',
        {
          spaceName: space,
          regarding: DeploymentId,
        },
      );
      const categories = events.Items.map((e) => e.Category);
      for (const c of ['DeploymentQueued', 'DeploymentStarted', 'DeploymentSucceeded'])
        assert.ok(categories.includes(c), c);

      await client.doUpdate('~/api/maintenanceconfiguration', {
        Id: 'maintenance',
        IsInMaintenanceMode: true,
      });
      try {
        const status = await client.get<{ IsInMaintenanceMode: boolean }>('~/api/serverstatus');
        assert.equal(status.IsInMaintenanceMode, true);
        const deployer = await Client.create({
          instanceURL: url,
          apiKey: fx.deployerKey,
          userAgentApp: 'cuttle-e2e',
          logging: silent,
        });
        await assert.rejects(
          new DeploymentRepository(deployer, space).create({
            spaceName: space,
            ProjectName: project.Name,
            ReleaseVersion: release.ReleaseVersion,
            EnvironmentNames: [environment.Name],
          }),
          (err: Error & { StatusCode?: number }) =>
            err.StatusCode === 409 && /maintenance mode/.test(err.message),
        );
        const polled = await new SpaceServerTaskRepository(deployer, space).getByIds([ServerTaskId]);
        assert.equal(polled[0]!.State, 'Success', 'task polling keeps working in maintenance mode');
      } finally {
        await client.doUpdate('~/api/maintenanceconfiguration', {
          Id: 'maintenance',
          IsInMaintenanceMode: false,
        });
      }
      const after = await client.get<{ IsInMaintenanceMode: boolean }>('~/api/serverstatus');
      assert.equal(after.IsInMaintenanceMode, false);
    });

    it('rejects unknown task ids the way the waiter expects', async () => {
      const client = await Client.create({
        instanceURL: url,
        apiKey: fx.adminKey,
        userAgentApp: 'cuttle-e2e',
        logging: silent,
      });
      await assert.rejects(
        new ServerTaskWaiter(client, 'Default').waitForServerTasksToComplete(
          ['ServerTasks-99999'],
          200,
          5000,
        ),
        /Unknown task Id/,
      );
    });
  });
}
