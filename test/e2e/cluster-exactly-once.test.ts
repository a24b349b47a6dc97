import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Cluster, createCluster } from './cluster-helpers.js';
import { api, deployScript, runNodeForeground } from './service-helpers.js';

const TASK_CAP = 4;

type Node = ReturnType<typeof runNodeForeground>;

/** Deploys the release `deployScript` created once more: one more task. */
async function deployAgain(url: string, apiKey: string, tag: string): Promise<string> {
  const c = api(url, apiKey);
  const space = 'Spaces-1';
  const releases = await c.get<{ Items: { Version: string }[] }>(`/api/${space}/releases`);
  const deployed = await c.post<{ DeploymentServerTasks: { ServerTaskId: string }[] }>(
    `/api/${space}/deployments/create/untenanted/v1`,
    {
      spaceIdOrName: space,
      ProjectName: `Project-${tag}`,
      ReleaseVersion: releases.Items[0]!.Version,
      EnvironmentNames: [`Env-${tag}`],
    },
  );
  return deployed.DeploymentServerTasks[0]!.ServerTaskId;
}

/** The most tasks a node ran at the same time, from the start and end times the database holds. */
async function peakConcurrency(db: Storage): Promise<Map<string, number>> {
  const rows = await db.db
    .selectFrom('server_tasks')
    .select(['node_id', 'start_time', 'completed_time'])
    .where('kind', '=', 'Deploy')
    .execute();
  const peaks = new Map<string, number>();
  const byNode = new Map<string, typeof rows>();
  for (const r of rows) byNode.set(r.node_id ?? '', [...(byNode.get(r.node_id ?? '') ?? []), r]);
  for (const [node, tasks] of byNode) {
    const edges = tasks.flatMap((t) => [
      { at: t.start_time!, d: 1 },
      { at: t.completed_time!, d: -1 },
    ]);
    // an end before a start at the same instant: a slot freed and taken again is not two at once
    edges.sort((a, b) => a.at.localeCompare(b.at) || a.d - b.d);
    let now = 0;
    let peak = 0;
    for (const e of edges) {
      now += e.d;
      peak = Math.max(peak, now);
    }
    peaks.set(node, peak);
  }
  return peaks;
}

/** Waits until `total` deployment tasks exist and all ended Success; names the states seen on failure. */
async function allSucceeded(db: Storage, total: () => number): Promise<void> {
  let seen: { state: string; n: number }[] = [];
  await waitFor(
    () => `all ${total()} deployments to succeed: ${JSON.stringify(seen)}`,
    async () => {
      seen = await deployTaskStates(db);
      return seen.length === 1 && seen[0]!.state === 'Success' && seen[0]!.n === total();
    },
    { timeoutMs: 600_000, intervalMs: 250 },
  );
}

async function deployTaskStates(db: Storage): Promise<{ state: string; n: number }[]> {
  const rows = await db.db
    .selectFrom('server_tasks')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('kind', '=', 'Deploy')
    .groupBy('state')
    .execute();
  return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
}

/**
 * Three nodes on one PostgreSQL database share a queue: every deployment runs exactly once,
 * whether the nodes just work through it or are restarted one by one while deployments keep
 * being queued.
 */
describe('a three-node cluster (PostgreSQL)', () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function startCluster(label: string): Promise<{
    cluster: Cluster;
    observer: Storage;
    nodes: Node[];
    start(i: number): Promise<Node>;
    apiKey: string;
  }> {
    const cluster = await createCluster(label, 3, { leaseMs: 6_000 });
    cleanups.push(() => cluster.cleanup());
    for (const n of cluster.nodes) {
      const r = await n.cli(['configure', '--task-cap', String(TASK_CAP)]);
      assert.equal(r.code, 0, r.all);
    }
    const observer = await cluster.observe();
    const nodes: Node[] = [];
    const start = async (i: number) => {
      const node = runNodeForeground(cluster.nodes[i]!);
      children.push(node.child);
      await waitFor(
        () => `node ${i} to listen: ${node.output()}`,
        () => node.url(),
      );
      nodes[i] = node;
      return node;
    };
    const first = await start(0);
    const apiKey = await waitFor('the first-start API key', () => first.apiKey());
    await start(1);
    await start(2);
    return { cluster, observer, nodes, start, apiKey };
  }

  it('500 queued deployments: each ran exactly once, spread over the three nodes within their caps', async () => {
    const { observer, nodes, apiKey } = await startCluster('once');
    const marks = path.join(tempDir('once-marks'), 'runs');
    const url = nodes[0]!.url()!;
    const first = await deployScript(url, apiKey, `echo "#{Octopus.Task.Id}" >> '${marks}'`, 'once');
    const ids = [first];
    // queued through all three nodes' APIs, as a load balancer would spread them
    for (let i = 1; i < 500; i++) ids.push(await deployAgain(nodes[i % 3]!.url()!, apiKey, 'once'));
    await allSucceeded(observer, () => 500);
    const runs = fs.readFileSync(marks, 'utf8').trim().split('\n');
    assert.equal(runs.length, 500, 'one script run per deployment');
    assert.deepEqual(new Set(runs), new Set(ids), 'every deployment ran, none twice');
    const peaks = await peakConcurrency(observer);
    assert.equal(peaks.size, 3, `all three nodes ran deployments: ${[...peaks.keys()]}`);
    for (const [node, peak] of peaks)
      assert.ok(peak <= TASK_CAP, `node ${node} ran ${peak} at once (cap ${TASK_CAP})`);
  });

  it('a rolling restart of all three nodes while deployments keep being queued: none lost, none run twice', async () => {
    const { observer, nodes, start, apiKey } = await startCluster('roll');
    const marks = path.join(tempDir('roll-marks'), 'runs');
    const first = await deployScript(
      nodes[0]!.url()!,
      apiKey,
      `sleep 0.3; echo "#{Octopus.Task.Id}" >> '${marks}'`,
      'roll',
    );
    const ids = [first];
    let queueing = true;
    // queued through whichever node answers: a restarting node refuses, the others take it
    const queue = (async () => {
      let i = 0;
      while (queueing) {
        const live = nodes.filter((n) => n.child.exitCode === null && n.url());
        const n = live[i++ % live.length]!;
        try {
          ids.push(await deployAgain(n.url()!, apiKey, 'roll'));
        } catch {
          // that node was stopping; the next one takes the deployment
        }
      }
    })();
    for (let i = 0; i < 3; i++) {
      // let some deployments run on the node, then stop it gracefully (it drains) and start it again
      const before = ids.length;
      await waitFor('more deployments to be queued', () => ids.length >= before + 10);
      const node = nodes[i]!;
      const exited = new Promise((r) => node.child.once('exit', r));
      node.child.kill('SIGTERM');
      await exited;
      assert.equal(node.child.exitCode, 0, node.output());
      await start(i);
    }
    queueing = false;
    await queue;
    await allSucceeded(observer, () => ids.length);
    const runs = fs.readFileSync(marks, 'utf8').trim().split('\n');
    assert.equal(runs.length, ids.length, 'one script run per deployment');
    assert.deepEqual(new Set(runs), new Set(ids), 'every deployment ran, none twice');
  });
});
