import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { bashSteps } from '../helpers/bash-step.js';

/**
 * The typed request and answer schemas of steps, releases and deployments document the bodies
 * without narrowing what clients could already send: unknown fields are kept, the Executions
 * API's loose forms (comma lists, "True") still bind, and secrets still never leave.
 */
describe('typed bodies of processes, releases and deployments', () => {
  let fx: ApiFixture;
  let projectId = '';
  let processPath = '';
  before(async () => {
    fx = await startApi('sqlite', 'typedbodies');
    ({ projectId } = await seedProject(fx, 'Typed'));
    processPath = `/api/Spaces-1/projects/${projectId}/deploymentprocesses`;
  });
  after(async () => fx?.close());

  it('keeps fields the schemas do not name, and stores non-text property values as text', async () => {
    const [step] = bashSteps('echo typed', 'Typed');
    const steps = [
      {
        ...step!,
        Slug: 'typed',
        CuttleTestNote: { kept: true },
        Actions: [
          {
            ...step!.Actions[0]!,
            Notes: 'kept too',
            Properties: {
              ...step!.Actions[0]!.Properties,
              'Octopus.Action.ExecutionTimeout.Minutes': 5,
              'Custom.Flag': true,
              'Custom.Empty': null,
              'Custom.Secret': { HasValue: true, NewValue: 's3cret-value' },
            },
          },
        ],
      },
    ];
    const current = (await call(fx, 'GET', processPath)).body;
    const put = await call(fx, 'PUT', processPath, { ...current, Steps: steps });
    assert.equal(put.status, 200, put.text);
    const got = (await call(fx, 'GET', processPath)).body.Steps[0];
    assert.equal(got.Slug, 'typed');
    assert.deepEqual(got.CuttleTestNote, { kept: true });
    const action = got.Actions[0];
    assert.equal(action.Notes, 'kept too');
    assert.equal(action.Properties['Octopus.Action.ExecutionTimeout.Minutes'], '5');
    assert.equal(action.Properties['Custom.Flag'], 'true');
    assert.equal(action.Properties['Custom.Empty'], '');
    assert.deepEqual(action.Properties['Custom.Secret'], { HasValue: true, NewValue: null });
    assert.ok(!put.text.includes('s3cret-value') && !put.text.includes('SealedValue'), 'no secret answered');
  });

  it('refuses a body of the wrong shape with 400 naming the field', async () => {
    const r = await call(fx, 'PUT', processPath, { Steps: [{ Name: 'x', Actions: 'not a list' }] });
    assert.equal(r.status, 400);
    assert.match(r.body.Errors.join('\n'), /Steps\/0\/Actions/);
  });

  it('binds the Executions API loosely as before: "True" as text, environments as one comma list', async () => {
    await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'Typed-b' });
    const first = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
      ProjectName: 'Typed',
      ReleaseVersion: '2.0.0',
    });
    assert.equal(first.status, 200, first.text);
    const again = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', {
      ProjectName: 'Typed',
      ReleaseVersion: '2.0.0',
      IgnoreIfAlreadyExists: 'True',
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.ReleaseId, first.body.ReleaseId);
    const deployed = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
      projectName: 'Typed',
      ReleaseVersion: '2.0.0',
      EnvironmentNames: 'Typed-env,Typed-b',
    });
    assert.equal(deployed.status, 200, deployed.text);
    assert.equal(deployed.body.DeploymentServerTasks.length, 2, 'one deployment per listed environment');
  });
});
