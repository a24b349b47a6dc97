import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pidFilePath, stateFilePath } from '../../src/server-process/run-files.js';
import { type ServiceStatus, serviceStatus } from '../../src/server-process/service-status.js';
import { ENGINES } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { pidAlive } from '../tasks/task-test-helpers.js';
import {
  createServiceInstance,
  dbTaskState,
  deployScript,
  logGrows,
  type ServiceInstance,
  taskState,
} from './service-helpers.js';

const SERVICE_ENGINES = ENGINES.filter((e) => e !== 'mysql');

for (const engine of SERVICE_ENGINES) {
  describe(`${engine}: service --start / --status / --stop`, () => {
    let inst: ServiceInstance;
    let apiKey = '';
    before(async () => {
      inst = await createServiceInstance(engine, 'svc');
    });
    after(async () => {
      await inst?.cleanup();
    });

    // In-process (by config file): each CLI run costs seconds of tsx start-up on a busy machine.
    const status = () => serviceStatus({ config: path.join(inst.home, 'cuttle.config.json') });
    const cliStatus = async () => {
      const r = await inst.cli(['service', '--status', '--format', 'json']);
      assert.equal(r.code, 0, r.all);
      return JSON.parse(r.stdout) as ServiceStatus;
    };
    const start = async () => {
      const r = await inst.cli(['service', '--start', '--format', 'json']);
      assert.equal(r.code, 0, r.all);
      return JSON.parse(r.stdout) as { pid: number; url: string; initialAdmin?: { apiKey: string } };
    };

    it('starts a background node that answers, with pid and state files, and reports it', async () => {
      const s = await start();
      assert.ok(s.initialAdmin?.apiKey.startsWith('API-'), 'first start hands over the admin API key');
      apiKey = s.initialAdmin!.apiKey;
      assert.ok(
        !fs.readFileSync(path.join(inst.home, 'logs', 'service.log'), 'utf8').includes(apiKey),
        'key not in the log',
      );
      assert.equal(Number(fs.readFileSync(pidFilePath(inst.home), 'utf8')), s.pid);
      const st = await cliStatus();
      assert.equal(st.state, 'running');
      assert.equal(st.pid, s.pid);
      assert.equal(st.nodeName, inst.nodeName);
      assert.equal(st.url, s.url);
      assert.equal(st.runningTasks, 0);
      const again = await inst.cli(['service', '--start']);
      assert.match(again.stdout, /already running/);
    });

    it('--stop drains: it returns only after the running task finished', async () => {
      const { url, pid } = (await status()) as { url: string; pid: number };
      // The script runs until the test lets it finish, whatever the machine's load.
      const go = path.join(inst.home, `go-${engine}`);
      const taskId = await deployScript(
        url,
        apiKey,
        `echo begin; while [ ! -f ${go} ]; do echo tick; sleep 0.1; done; echo finished-ok`,
        `drain${engine}`,
      );
      await waitFor('task executing', async () => (await taskState(url, apiKey, taskId)) === 'Executing');
      assert.equal((await status()).runningTasks, 1);
      let returned = false;
      const stopping = inst.cli(['service', '--stop', '--timeout', '120']).then((r) => {
        returned = true;
        return r;
      });
      await waitFor(
        'the node to drain',
        async () => (await fetch(`${url}/api/octopusservernodes/ping`)).status === 418,
        60_000,
      );
      // The drained node went on running the task and writing its log: --stop had its chance to return.
      await logGrows(url, apiKey, taskId);
      assert.equal(returned, false, '--stop waits while the task runs');
      assert.equal(await taskState(url, apiKey, taskId), 'Executing');
      fs.writeFileSync(go, '');
      const r = await stopping;
      assert.equal(r.code, 0, r.all);
      assert.match(r.stdout, /Stopped instance/);
      assert.equal(
        await dbTaskState(inst, taskId),
        'Success',
        'the running task finished before the stop returned',
      );
      assert.equal(pidAlive(pid), false);
      assert.equal(fs.existsSync(pidFilePath(inst.home)), false);
      assert.equal(fs.existsSync(stateFilePath(inst.home)), false);
      const st = await status();
      assert.equal(st.state, 'stopped');
      assert.equal(st.pid, null);
    });

    it('--stop --force cancels running tasks, leaves no orphan process, and stops', async () => {
      const s = await start();
      const marker = path.join(inst.home, `leader-${engine}.pid`);
      const taskId = await deployScript(s.url, apiKey, `echo $$ > ${marker}; sleep 300`, `force${engine}`);
      await waitFor(
        'script running',
        async () => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() !== '',
      );
      const leader = Number(fs.readFileSync(marker, 'utf8'));
      assert.ok(pidAlive(leader));
      // Waiting for the 300 s script would exceed --timeout 60, and the stop would fail.
      const r = await inst.cli(['service', '--stop', '--force', '--timeout', '60']);
      assert.equal(r.code, 0, r.all);
      assert.match(r.stdout, /Canceled 1 running task/);
      assert.equal(await dbTaskState(inst, taskId), 'Canceled');
      assert.equal(pidAlive(leader), false, 'the script was killed');
      assert.equal((await status()).state, 'stopped');
    });
  });
}
