/**
 * `npm run bench:cluster -- [--count 300] [--task-cap 5] [--lease-ms 10000]`
 *
 * Clusters of real node processes (`cuttle run`, each with its own home) on one PostgreSQL database:
 * 1. deployments per second for 1, 2 and 3 nodes: a one-step Bash `echo` process, `count`
 *    deployments queued while the space's task queue is stopped, then the queue is started and the
 *    clock runs until the last task has succeeded (seen from an observer connection, every 50 ms);
 * 2. time from a node's SIGKILL, inside a step, to its task being resolved by the other node, with
 *    a lease of `lease-ms` (aim: at most lease + 5 s).
 * Everything shares this machine's cores: the nodes, PostgreSQL and the scripts.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Storage } from '../src/storage/storage.js';
import { createCluster } from '../test/e2e/cluster-helpers.js';
import { api, deployScript, runNodeForeground } from '../test/e2e/service-helpers.js';
import { tempDir } from '../test/helpers/engines.js';
import { waitFor } from '../test/helpers/wait-for.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const count = Number(opt('--count', '300'));
const taskCap = Number(opt('--task-cap', '5'));
const leaseMs = Number(opt('--lease-ms', '10000'));
const children: ChildProcess[] = [];

async function succeeded(db: Storage): Promise<number> {
  const r = await db.db
    .selectFrom('server_tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'Deploy')
    .where('state', '=', 'Success')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function throughput(nodesWanted: number): Promise<number> {
  const cluster = await createCluster(`bench${nodesWanted}`, nodesWanted, { leaseMs: 60_000 });
  try {
    for (const n of cluster.nodes) await n.cli(['configure', '--task-cap', String(taskCap)]);
    const observer = await cluster.observe();
    const nodes = [];
    for (const n of cluster.nodes) {
      const node = runNodeForeground(n);
      children.push(node.child);
      await waitFor('a node to listen', () => node.url());
      nodes.push(node);
    }
    const apiKey = nodes[0]!.apiKey()!;
    const url = nodes[0]!.url()!;
    await deployScript(url, apiKey, 'echo "hello from #{Octopus.Environment.Name}"', 'bench');
    await waitFor('the first deployment', async () => (await succeeded(observer)) === 1);
    const c = api(url, apiKey);
    const space = await c.get<Record<string, unknown>>('/api/spaces/Spaces-1');
    await c.put('/api/spaces/Spaces-1', { ...space, TaskQueueStopped: true });
    const releases = await c.get<{ Items: { Version: string }[] }>('/api/Spaces-1/releases');
    for (let i = 0; i < count; i++) {
      await api(nodes[i % nodes.length]!.url()!, apiKey).post(
        '/api/Spaces-1/deployments/create/untenanted/v1',
        {
          spaceIdOrName: 'Spaces-1',
          ProjectName: 'Project-bench',
          ReleaseVersion: releases.Items[0]!.Version,
          EnvironmentNames: ['Env-bench'],
        },
      );
    }
    const started = performance.now();
    await c.put('/api/spaces/Spaces-1', { ...space, TaskQueueStopped: false });
    await waitFor('all deployments', async () => (await succeeded(observer)) === count + 1, {
      timeoutMs: 900_000,
      intervalMs: 50,
    });
    const seconds = (performance.now() - started) / 1000;
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(
      nodes.map((n) => new Promise((r) => (n.child.exitCode === null ? n.child.once('exit', r) : r(0)))),
    );
    return count / seconds;
  } finally {
    await cluster.cleanup();
  }
}

async function deathToResolution(runs: number): Promise<number[]> {
  const cluster = await createCluster('benchdeath', 2, { leaseMs });
  const out: number[] = [];
  try {
    const [steady, victim] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const observer = await cluster.observe();
    let apiKey: string | undefined;
    let s: ReturnType<typeof runNodeForeground> | undefined;
    for (let i = 0; i < runs; i++) {
      // the victim alone first, so the deployment runs on it
      if (s) {
        s.child.kill('SIGTERM');
        await new Promise((r) => s!.child.once('exit', r));
      }
      const v = runNodeForeground(victim);
      children.push(v.child);
      const url = await waitFor('the victim to listen', () => v.url());
      apiKey ??= await waitFor('the API key', () => v.apiKey());
      const marks = tempDir('bench-death');
      const taskId = await deployScript(url, apiKey, `echo $$ > '${marks}/pid'; sleep 600`, `death${i}`);
      await waitFor('the script to start', () => fs.existsSync(path.join(marks, 'pid')));
      s = runNodeForeground(steady);
      children.push(s.child);
      await waitFor('the steady node to listen', () => s!.url());
      const lease = await observer.db
        .selectFrom('server_tasks')
        .select('lease_until')
        .where('id', '=', taskId)
        .executeTakeFirstOrThrow();
      const killed = performance.now();
      v.child.kill('SIGKILL');
      console.log(`    killed at ${new Date().toISOString()}, lease until ${lease.lease_until}`);
      await waitFor(
        'the task to be resolved',
        async () => {
          const r = await observer.db
            .selectFrom('server_tasks')
            .select('state')
            .where('id', '=', taskId)
            .executeTakeFirstOrThrow();
          return r.state !== 'Executing';
        },
        { timeoutMs: leaseMs * 3, intervalMs: 20 },
      );
      out.push((performance.now() - killed) / 1000);
      console.log(`    resolved at ${new Date().toISOString()}`);
    }
    s?.child.kill('SIGTERM');
    return out;
  } finally {
    await cluster.cleanup();
  }
}

try {
  console.log(
    `cluster bench: ${count} deployments, task cap ${taskCap} per node, PostgreSQL, 2 cores shared`,
  );
  const rates: number[] = [];
  for (const n of args.includes('--death-only') ? [] : [1, 2, 3]) {
    const rate = await throughput(n);
    rates.push(rate);
    console.log(
      `  ${n} node(s): ${rate.toFixed(1)} deployments/s (x${(rate / rates[0]!).toFixed(2)} of one node)`,
    );
  }
  const deaths = await deathToResolution(3);
  const worst = Math.max(...deaths);
  console.log(
    `  node death to resolution, lease ${leaseMs / 1000} s: ${deaths.map((d) => d.toFixed(1)).join(', ')} s; worst ${worst.toFixed(1)} s = lease + ${(worst - leaseMs / 1000).toFixed(1)} s (aim: lease + 5 s)`,
  );
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}
