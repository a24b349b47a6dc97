import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { assertFailedWith, assertOk } from '../helpers/cli-checks.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createServiceInstance,
  deployScript,
  runNodeForeground,
  type ServiceInstance,
  taskState,
} from './service-helpers.js';

/**
 * `cuttle node`, Octopus's node command, against a running node: drain it (its ping answers 418),
 * wait for its tasks (refused with NODE_DRAIN_TIMEOUT while one runs), cancel them, undrain it.
 */
describe('cuttle node --drain', () => {
  const children: ChildProcess[] = [];
  let inst: ServiceInstance | undefined;
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await inst?.cleanup();
  });

  it('drains a running node, waits for, cancels its tasks, and takes it back; bad input is refused', async () => {
    inst = await createServiceInstance('sqlite', 'node-cli');
    const node = runNodeForeground(inst);
    children.push(node.child);
    await waitFor('the node to listen and print its API key', () => node.url() && node.apiKey());
    const url = node.url()!;
    const apiKey = node.apiKey()!;
    const ping = async () => (await fetch(`${url}/api/octopusservernodes/ping`)).status;
    assert.equal(await ping(), 200);

    const taskId = await deployScript(url, apiKey, 'sleep 300', 'drain');
    await waitFor('executing', async () => (await taskState(url, apiKey, taskId)) === 'Executing');

    const shown = await inst.cli(['node', '--format', 'json']);
    assertOk(shown);
    assert.equal(JSON.parse(shown.stdout).Name, inst.nodeName);

    const timedOut = await inst.cli(['node', '--drain=true', '--wait', '1']);
    assertFailedWith(timedOut, 3, 'NODE_DRAIN_TIMEOUT');
    assert.match(timedOut.all, new RegExp(`still runs 1 task\\(s\\) after 1 s: ${taskId}`));
    await waitFor('the ping to answer 418 while the node drains', async () => (await ping()) === 418);

    const canceled = await inst.cli(['node', '--drain', 'true', '--cancel-tasks', '--wait', '120']);
    assertOk(canceled);
    assert.match(canceled.stdout, new RegExp(`Cancel requested for 1 task\\(s\\): ${taskId}`));
    assert.match(canceled.stdout, /runs no task/);
    assert.equal(await taskState(url, apiKey, taskId), 'Canceled');

    const list = await inst.cli(['node', '--list']);
    assertOk(list);
    assert.match(list.stdout, new RegExp(`${inst.nodeName}\\s+draining`));

    assertOk(await inst.cli(['node', '--drain=false', '--taskCap=3']));
    await waitFor('the ping to answer 200 again', async () => (await ping()) === 200);
    const back = JSON.parse((await inst.cli(['node', '--format', 'json'])).stdout);
    assert.equal(back.IsInMaintenanceMode, false);
    assert.equal(back.MaxConcurrentTasks, 3);

    assertFailedWith(await inst.cli(['node', '--drain', 'maybe']), 1, 'OPTION_INVALID');
    assertFailedWith(await inst.cli(['node', '--wait', '5']), 1, 'OPTIONS_CONFLICT');
    assertFailedWith(
      await inst.cli(['node', '--node', 'no-such-node', '--drain', 'true']),
      2,
      'NODE_NOT_FOUND',
    );
  });
});
