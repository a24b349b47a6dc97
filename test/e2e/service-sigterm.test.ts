import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_ARGS } from '../helpers/cli.js';
import { ENGINES, tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createServiceInstance,
  dbTaskState,
  deployScript,
  logGrows,
  type ServiceInstance,
  taskState,
} from './service-helpers.js';

/** `cuttle run` in the foreground, as `npm start` runs it; collects its output. */
function runForeground(args: string[], env: Record<string, string>, cwd: string) {
  // An absolute loader: the child runs in a temporary folder where the bare "tsx" does not resolve.
  const child = spawn(process.execPath, [...CLI_ARGS, 'run', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return { child, exited, output: () => output };
}

async function ready(out: () => string): Promise<{ url: string; apiKey: string }> {
  // the first-start API key goes to stdout and "listening on" to stderr: either can come first
  const text = await waitFor(
    'the node to listen and print its API key',
    async () =>
      /listening on (http:\/\/\S+)/.test(out()) && /API-[A-Z0-9]+/.test(out()) ? out() : undefined,
    120_000,
  );
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!;
  const apiKey = /(API-[A-Z0-9]+)/.exec(text)?.[1] ?? '';
  return { url, apiKey };
}

describe('cuttle run: first start and SIGTERM drain', () => {
  const children: ChildProcess[] = [];
  const instances: ServiceInstance[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const i of instances) await i.cleanup();
  });

  it('with no instance registered, creates "default" in ./.cuttle-home, prints URL and API key; SIGTERM drains', async () => {
    const cwd = tempDir('npm-start');
    const env = { CUTTLE_REGISTRY: path.join(cwd, 'instances.json') };
    const run = runForeground(['--listen', 'http://127.0.0.1:0'], env, cwd);
    children.push(run.child);
    const { url, apiKey } = await ready(run.output);
    assert.match(run.output(), /Created instance "default" in .*\.cuttle-home/);
    assert.ok(apiKey, 'the first-start API key is printed');
    assert.ok(fs.existsSync(path.join(cwd, '.cuttle-home', 'cuttle.config.json')));
    const go = path.join(cwd, 'go');
    const taskId = await deployScript(
      url,
      apiKey,
      `while [ ! -f ${go} ]; do echo tick; sleep 0.1; done; echo done`,
      'sigterm',
    );
    await waitFor('executing', async () => (await taskState(url, apiKey, taskId)) === 'Executing');
    run.child.kill('SIGTERM');
    await waitFor('draining message', async () => run.output().includes('draining'));
    // The node went on running the task and writing its log after the drain began.
    await logGrows(url, apiKey, taskId);
    assert.equal(run.child.exitCode, null, 'still draining while the task runs');
    fs.writeFileSync(go, '');
    assert.equal(await run.exited, 0, run.output());
    assert.match(run.output(), /draining/);
    const state = await (async () => {
      const { openStorage } = await import('../../src/storage/storage.js');
      const s = await openStorage({ engine: 'sqlite', file: path.join(cwd, '.cuttle-home', 'cuttle.db') });
      try {
        return (
          await s.db.selectFrom('server_tasks').select('state').where('id', '=', taskId).executeTakeFirst()
        )?.state;
      } finally {
        await s.close();
      }
    })();
    assert.equal(state, 'Success');
  });

  for (const engine of ENGINES.filter((e) => e === 'postgres')) {
    it(`${engine}: SIGTERM waits for the running task, a second signal cancels it`, async () => {
      const inst = await createServiceInstance(engine, 'sigterm');
      instances.push(inst);
      const run = runForeground(['--instance', inst.name], inst.env, inst.home);
      children.push(run.child);
      const { url, apiKey } = await ready(run.output);
      const taskId = await deployScript(url, apiKey, 'sleep 300', 'twice');
      await waitFor('executing', async () => (await taskState(url, apiKey, taskId)) === 'Executing');
      run.child.kill('SIGTERM');
      await waitFor('draining message', async () => run.output().includes('draining'));
      assert.equal(run.child.exitCode, null, 'still draining');
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 0, run.output());
      assert.equal(await dbTaskState(inst, taskId), 'Canceled');
    });
  }
});
