import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getProjectDeploymentProcess } from '../../src/storage/repositories/deployment-process-repository.js';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { bashSteps } from '../helpers/bash-step.js';
import { ENGINES } from '../helpers/engines.js';

/** bashSteps with one action property replaced (or the action type, with key "ActionType"). */
function stepsWith(change: Record<string, string>) {
  const steps = bashSteps('echo hi', 'Greet');
  const action = steps[0]!.Actions[0]! as Record<string, unknown> & { Properties: Record<string, string> };
  for (const [k, v] of Object.entries(change)) {
    if (k === 'ActionType') action.ActionType = v;
    else action.Properties[k] = v;
  }
  return steps;
}

for (const engine of ENGINES) {
  describe(`${engine}: a deployment process with a step Cuttle cannot run is refused when saved`, () => {
    let fx: ApiFixture;
    let projectId = '';
    let processPath = '';
    before(async () => {
      fx = await startApi(engine, 'procsteps');
      ({ projectId } = await seedProject(fx, 'Steps'));
      processPath = `/api/Spaces-1/projects/${projectId}/deploymentprocesses`;
    });
    after(async () => fx?.close());

    /** The stored row, sealed values and version included, and the API's view of it. */
    const stored = async () => ({
      row: await getProjectDeploymentProcess(fx.storage.db, projectId),
      api: (await call(fx, 'GET', processPath)).body,
    });

    const refused = async (url: string, steps: unknown, expected: RegExp[]) => {
      const before = await stored();
      const r = await call(fx, 'PUT', url, { ...before.api, Steps: steps });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.Code, 'STEP_UNSUPPORTED');
      for (const re of expected) assert.match(r.body.ErrorMessage, re);
      assert.deepEqual(await stored(), before, 'the stored process is unchanged');
      return r.body as { ErrorMessage: string; Errors: string[]; Code: string };
    };

    it('an unsupported action type: 400 naming it, the step and the supported type', async () => {
      const body = await refused(processPath, stepsWith({ ActionType: 'Octopus.TentaclePackage' }), [
        /not saved/,
        /Step "Greet", action "Greet"/,
        /"Octopus\.TentaclePackage" is not supported/,
        /runs the action type Octopus\.Script/,
      ]);
      assert.deepEqual(body.Errors, [], 'one problem: all of it is in the message');
    });

    it('an unsupported script syntax, through the process Id route: 400 naming Bash and PowerShell', async () => {
      await refused(
        `/api/Spaces-1/deploymentprocesses/deploymentprocess-${projectId}`,
        stepsWith({ 'Octopus.Action.Script.Syntax': 'Python' }),
        [/script syntax "Python" is not supported/, /Bash or PowerShell/],
      );
    });

    it('an unsupported script source: 400 naming Inline', async () => {
      await refused(processPath, stepsWith({ 'Octopus.Action.Script.ScriptSource': 'Package' }), [
        /script source "Package" is not supported/,
        /script source Inline/,
      ]);
    });

    it('several problems: each is listed in Errors, and nothing of the valid steps is saved either', async () => {
      const steps = [
        ...bashSteps('echo fine', 'Fine'),
        ...stepsWith({ 'Octopus.Action.Script.Syntax': 'FSharp' }),
        ...stepsWith({ ActionType: 'Octopus.Email' }),
      ];
      const body = await refused(processPath, steps, [/and 1 more, listed below/]);
      assert.equal(body.Errors.length, 2);
      assert.match(body.Errors[0]!, /"FSharp"/);
      assert.match(body.Errors[1]!, /"Octopus\.Email"/);
    });

    it('what Cuttle runs is still saved: Bash, PowerShell, and no syntax (PowerShell by default)', async () => {
      for (const steps of [
        bashSteps('echo bash'),
        stepsWith({ 'Octopus.Action.Script.Syntax': 'PowerShell' }),
        bashSteps('Write-Host default').map((s) => ({
          ...s,
          Actions: s.Actions.map((a) => {
            const { 'Octopus.Action.Script.Syntax': _syntax, ...Properties } = a.Properties;
            return { ...a, Properties };
          }),
        })),
      ]) {
        const current = (await call(fx, 'GET', processPath)).body;
        const r = await call(fx, 'PUT', processPath, { ...current, Steps: steps });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.Version, current.Version + 1);
      }
    });

    it('the process Id route answers 404 for an Id that is not a process', async () => {
      const r = await call(fx, 'GET', '/api/Spaces-1/deploymentprocesses/Projects-1');
      assert.equal(r.status, 404);
      assert.match(r.body.Errors.join(' '), /deploymentprocess-Projects-1/);
    });
  });
}
