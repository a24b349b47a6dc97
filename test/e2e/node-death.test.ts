import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  api,
  createServiceInstance,
  deployScript,
  runNodeForeground,
  type ServiceInstance,
  taskLog,
  taskState,
} from './service-helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A node SIGKILLed inside a deployment step: its script dies with it (watchdog), and the task is
 * failed by the restarted node, not run a second time, with a log line that names the dead node
 * and the step.
 */
describe('a node killed inside a step', () => {
  const children: ChildProcess[] = [];
  let inst: ServiceInstance | undefined;
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await inst?.cleanup();
  });

  it('SIGKILL: the script is gone, and on restart the task is Failed ("redeploy to retry"), not re-run', async () => {
    inst = await createServiceInstance('sqlite', 'death');
    const marks = path.join(tempDir('death-marks'), 'runs');
    const first = runNodeForeground(inst);
    children.push(first.child);
    await waitFor('the node to listen and print its API key', () => first.url() && first.apiKey());
    const url = first.url()!;
    const apiKey = first.apiKey()!;
    const script = `echo "$$" >> '${marks}'; while true; do echo tick; sleep 0.2; done`;
    const taskId = await deployScript(url, apiKey, script, 'death');
    const scriptPid = await waitFor('the script to start', () =>
      fs.existsSync(marks) ? Number(fs.readFileSync(marks, 'utf8').trim()) : undefined,
    );
    assert.ok(alive(scriptPid));

    first.child.kill('SIGKILL');
    await waitFor(`the script ${scriptPid} to die with its node`, () => !alive(scriptPid));

    const second = runNodeForeground(inst);
    children.push(second.child);
    const url2 = await waitFor('the restarted node to listen', () => second.url());
    await waitFor(
      'the task to be resolved',
      async () => (await taskState(url2, apiKey, taskId)) === 'Failed',
    );
    const task = await api(url2, apiKey).get<{ ErrorMessage: string }>(`/api/tasks/${taskId}`);
    assert.match(task.ErrorMessage, new RegExp(`Node ${inst.nodeName} stopped responding .*Step 1`));
    assert.match(task.ErrorMessage, /redeploy to retry/);
    assert.match(await taskLog(url2, apiKey, taskId), /redeploy to retry/);
    assert.equal(fs.readFileSync(marks, 'utf8').trim().split('\n').length, 1, 'the step ran once');
  });
});
