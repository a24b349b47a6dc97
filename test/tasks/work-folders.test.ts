import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sweepWorkFolders } from '../../src/tasks/work-folders.js';
import {
  type ApiFixture,
  call,
  seedProject,
  startApi,
  startExecutor,
  waitForTask,
} from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

const CANARY = 'Work-Folder-Canary-93c1';

/** Every file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile() && fs.readFileSync(p).includes(needle)) found.push(p);
  }
  return found;
}

describe('work folders: no sensitive value left on disk, folders removed as steps end', () => {
  let fx: ApiFixture;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    fx = await startApi(ENGINES[0]!, 'workfolders');
  });
  after(async () => {
    await stop?.();
    await fx?.close();
  });

  async function deploy(name: string, script: string) {
    const { projectId, envName } = await seedProject(fx, name, script);
    const vars = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}/variables`);
    await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}/variables`, {
      ...vars.body,
      Variables: [{ Name: 'DbPassword', Value: CANARY, IsSensitive: true, Type: 'Sensitive' }],
    });
    const rel = await call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: name });
    const dep = await call(fx, 'POST', '/api/Spaces-1/deployments/create/untenanted/v1', {
      ProjectName: name,
      ReleaseVersion: rel.body.ReleaseVersion,
      EnvironmentNames: [envName],
    });
    const taskId = dep.body.DeploymentServerTasks[0].ServerTaskId as string;
    return { taskId, task: await waitForTask(fx, taskId) };
  }

  it('a script given a sensitive value: it runs, then no file under the home holds the value and its folder is gone', async () => {
    stop = (await startExecutor(fx)).stop;
    const { taskId, task } = await deploy(
      'Clean',
      'echo "pw=#{DbPassword}" > out.txt; test -s out.txt && echo "wrote $(wc -c < out.txt) bytes"',
    );
    assert.equal(task.State, 'Success', task.ErrorMessage);
    const raw = await call(fx, 'GET', `/api/tasks/${taskId}/raw`);
    assert.match(raw.text, /wrote \d+ bytes/, 'the script ran in its folder');
    assert.deepEqual(filesHolding(fx.home, CANARY), []);
    assert.ok(!fs.existsSync(path.join(fx.home, 'work', taskId)), 'the work folder was removed');
  });

  it('keepWorkFolders: a failed step keeps its folder, its script copy masked', async () => {
    await stop?.();
    stop = (await startExecutor(fx, { keepWorkFolders: true })).stop;
    const { taskId, task } = await deploy('Kept', 'echo "using #{DbPassword}"; exit 4');
    assert.equal(task.State, 'Failed');
    const taskDir = path.join(fx.home, 'work', taskId);
    assert.ok(fs.existsSync(taskDir), 'the failed step kept its folder');
    const [stepDir] = fs.readdirSync(taskDir);
    const masked = fs.readFileSync(path.join(taskDir, stepDir!, 'script.sh.masked'), 'utf8');
    assert.match(masked, /echo "using \*+"; exit 4/);
    assert.deepEqual(filesHolding(fx.home, CANARY), [], 'masked, not in clear');
    const raw = await call(fx, 'GET', `/api/tasks/${taskId}/raw`);
    assert.match(raw.text, /work folder .* was kept/);

    const ok = await deploy('KeptButFine', 'echo fine');
    assert.equal(ok.task.State, 'Success');
    assert.ok(!fs.existsSync(path.join(fx.home, 'work', ok.taskId)), 'a successful step never keeps it');
  });

  it('leftovers of a node that died are swept at start; kept folders stay', () => {
    const left = path.join(fx.home, 'work', 'ServerTasks-999', 'Action-1');
    fs.mkdirSync(left, { recursive: true });
    fs.writeFileSync(path.join(left, 'secret.txt'), CANARY);
    const keptBefore = fs.readdirSync(path.join(fx.home, 'work')).filter((t) => t !== 'ServerTasks-999');
    assert.equal(sweepWorkFolders(fx.home), 1);
    assert.ok(!fs.existsSync(path.dirname(left)));
    assert.deepEqual(fs.readdirSync(path.join(fx.home, 'work')), keptBefore);
  });
});
