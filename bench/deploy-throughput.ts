/**
 * `node --import tsx bench/deploy-throughput.ts [--engines sqlite,postgres] [--count 200] [--task-cap 5]`
 *
 * Deployment throughput of one node: a one-step Bash `echo` process, `count` deployments queued
 * at once (while the space's task queue is stopped), then the queue is started and the clock runs
 * until the last task completes. Reports deployments completed per second per engine.
 * The node runs in this process (startNode: the real executor, HTTP API, task logs and events);
 * deployments are queued through the REST API as a client would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configureInstance } from '../src/admin/configure.js';
import { createInstance } from '../src/admin/create-instance.js';
import { loadInstance } from '../src/admin/instance-context.js';
import { startNode } from '../src/server-process/node-process.js';
import { wakeTaskExecutors } from '../src/tasks/task-queue.js';
import { api } from '../test/e2e/service-helpers.js';
import { bashSteps } from '../test/helpers/bash-step.js';
import { testDatabase } from '../test/helpers/engines.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const engines = opt('--engines', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const count = Number(opt('--count', '200'));
const taskCap = Number(opt('--task-cap', '5'));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cuttle-bench-deploy-'));
process.env.CUTTLE_REGISTRY = path.join(work, 'instances.json');
process.env.CUTTLE_LOG_LEVEL = 'warn';

type Items = { Items: Record<string, unknown>[] };

async function benchEngine(engine: 'sqlite' | 'postgres') {
  const db = testDatabase(engine, 'benchdeploy');
  const name = `bench-${engine}`;
  await createInstance({
    name,
    home: path.join(work, name),
    connectionString: engine === 'sqlite' ? undefined : db.connectionString,
  });
  await configureInstance(loadInstance({ instance: name }), { taskCap, listen: 'http://127.0.0.1:0' });
  const adminFile = path.join(work, `${name}-admin.json`);
  const node = await startNode({
    instanceRef: { instance: name },
    print: () => {},
    initialAdminFile: adminFile,
  });
  try {
    const { apiKey } = JSON.parse(fs.readFileSync(adminFile, 'utf8')) as { apiKey: string };
    const c = api(node.url, apiKey);
    const spaces = await c.get<Items>('/api/spaces');
    const space = spaces.Items.find((s) => s.IsDefault)!;
    const groups = await c.get<Items>(`/api/${space.Id}/projectgroups`);
    const lifecycles = await c.get<Items>(`/api/${space.Id}/lifecycles`);
    await c.post(`/api/${space.Id}/environments`, { Name: 'Bench' });
    const project = await c.post<{ Id: string; Name: string }>(`/api/${space.Id}/projects`, {
      Name: 'Bench',
      ProjectGroupId: groups.Items[0]!.Id,
      LifecycleId: lifecycles.Items[0]!.Id,
    });
    const processPath = `/api/${space.Id}/projects/${project.Id}/deploymentprocesses`;
    const proc = await c.get<Record<string, unknown>>(processPath);
    await c.put(processPath, {
      ...proc,
      Steps: bashSteps('echo "hello from #{Octopus.Environment.Name}"'),
    });
    const release = await c.post<{ ReleaseVersion: string }>(`/api/${space.Id}/releases/create/v1`, {
      spaceIdOrName: space.Id,
      ProjectName: 'Bench',
    });
    await c.put(`/api/spaces/${space.Id}`, { ...space, TaskQueueStopped: true });
    for (let i = 0; i < count; i++) {
      await c.post(`/api/${space.Id}/deployments/create/untenanted/v1`, {
        spaceIdOrName: space.Id,
        ProjectName: 'Bench',
        ReleaseVersion: release.ReleaseVersion,
        EnvironmentNames: ['Bench'],
      });
    }
    const started = performance.now();
    const cpu0 = cpuMs();
    await c.put(`/api/spaces/${space.Id}`, { ...space, TaskQueueStopped: false });
    wakeTaskExecutors();
    // Cheap polling (the node shares this process and, on SQLite, its one connection).
    let done = 0;
    let failed = 0;
    while (done < count) {
      await new Promise((r) => setTimeout(r, 200));
      const rows = await node.storage.db
        .selectFrom('server_tasks')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('completed_time', 'is not', null)
        .groupBy('state')
        .execute();
      done = rows.reduce((n, r) => n + Number(r.n), 0);
      failed = rows.filter((r) => r.state !== 'Success').reduce((n, r) => n + Number(r.n), 0);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs();
    const nodeMs = (cpu.self - cpu0.self) / count;
    const scriptMs = (cpu.children - cpu0.children) / count;
    return {
      engine,
      count,
      taskCap,
      seconds: Number(seconds.toFixed(2)),
      perSecond: Number((count / seconds).toFixed(1)),
      nodeCpuMsPerDeployment: Number(nodeMs.toFixed(1)),
      scriptCpuMsPerDeployment: Number(scriptMs.toFixed(1)),
      // What two otherwise idle cores could do: the node's event loop uses one core at most.
      idle2CoreEstimate: Number(Math.min(1000 / nodeMs, 2000 / (nodeMs + scriptMs)).toFixed(1)),
      failed,
    };
  } finally {
    await node.shutdown({ abortRunning: true });
    if (engine !== 'sqlite') await db.drop();
  }
}

/** CPU time of this process and of its reaped children (the scripts), from /proc (Linux). */
function cpuMs(): { self: number; children: number } {
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const tick = 10; // ms per clock tick (USER_HZ = 100 on Linux)
  return { self: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick };
}

const results = [];
for (const engine of engines) results.push(await benchEngine(engine));
console.log(`CPUs: ${os.cpus().length}, load average ${os.loadavg()[0]!.toFixed(1)}`);
console.table(results);
fs.rmSync(work, { recursive: true, force: true });
