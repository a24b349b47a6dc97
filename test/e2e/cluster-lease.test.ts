import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/engines.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Cluster, createCluster } from './cluster-helpers.js';
import { deployScript, runNodeForeground } from './service-helpers.js';

const LEASE_MS = 6_000;

/**
 * The processes of a group still running, as `ps` lists them: zombies do not count (a paused
 * node cannot reap its dead script until it runs again).
 */
function groupRunning(pgid: number): string[] {
  const r = spawnSync('ps', ['-e', '-o', 'pgid=,pid=,stat=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.split(/\s+/)[0] === String(pgid) && !l.split(/\s+/)[2]?.startsWith('Z'));
}

/** What the database holds of one task: its row and its log, to compare before and after. */
async function taskSnapshot(db: Storage, taskId: string) {
  const row = await db.db
    .selectFrom('server_tasks')
    .select(['state', 'node_id', 'error_message', 'activity_json', 'change_number', 'completed_time'])
    .where('id', '=', taskId)
    .executeTakeFirstOrThrow();
  const log = await db.db
    .selectFrom('task_log_chunks')
    .select(['seq', 'text'])
    .where('task_id', '=', taskId)
    .orderBy('seq')
    .execute();
  return { row: { ...row, change_number: String(row.change_number) }, log };
}

/**
 * A node that cannot renew its lease, because it is paused (SIGSTOP) or cut off from the database
 * (a TCP proxy cut): its script is dead before the lease runs out, another node resolves the task
 * by the rule within the lease and a few seconds, and when the node comes back none of its writes
 * as the task's owner lands.
 */
describe('a node that loses its lease (PostgreSQL, two nodes, 6 s lease)', () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of children) {
      if (c.exitCode === null) {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      }
    }
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  for (const how of ['paused (SIGSTOP)', 'cut off from the database'] as const) {
    it(`${how}: its script dies before the lease runs out, the task is failed by the other node, and nothing it writes afterwards lands`, async () => {
      const label = how.startsWith('paused') ? 'stop' : 'cut';
      let proxy: TcpProxy | undefined;
      if (label === 'cut') {
        proxy = await startTcpProxy(5432);
        cleanups.push(() => proxy!.close());
      }
      const cluster: Cluster = await createCluster(`lease${label}`, 2, {
        leaseMs: LEASE_MS,
        ports: [undefined, proxy?.port],
      });
      cleanups.push(() => cluster.cleanup());
      const observer = await cluster.observe();
      const [steady, victim] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];

      // the victim starts alone, so the deployment runs on it; then the steady node joins
      const v = runNodeForeground(victim);
      children.push(v.child);
      const url = await waitFor('the victim node to listen', () => v.url());
      const apiKey = await waitFor('the first-start API key', () => v.apiKey());
      const marks = tempDir(`lease-${label}`);
      const beat = path.join(marks, 'beat');
      const script = `echo "$$" >> '${marks}/runs'; while true; do date +%s%3N > '${beat}'; echo tick; sleep 0.1; done`;
      const taskId = await deployScript(url, apiKey, script, label);
      const pgid = await waitFor('the script to start', () =>
        fs.existsSync(`${marks}/runs`) ? Number(fs.readFileSync(`${marks}/runs`, 'utf8').trim()) : undefined,
      );
      const s = runNodeForeground(steady);
      children.push(s.child);
      await waitFor('the steady node to listen', () => s.url());

      if (label === 'stop') v.child.kill('SIGSTOP');
      else proxy!.cut();

      // the lease as the database last had it, until the steady node resolves the task
      let lease: string | null = null;
      const resolved = await waitFor(
        () => `task ${taskId} to be resolved (lease ${lease})`,
        async () => {
          const r = await observer.db
            .selectFrom('server_tasks')
            .select(['state', 'lease_until'])
            .where('id', '=', taskId)
            .executeTakeFirstOrThrow();
          if (r.state === 'Executing') lease = r.lease_until;
          return r.state === 'Executing' ? undefined : r.state;
        },
      );
      assert.equal(resolved, 'Failed');
      assert.ok(lease, 'the lease was seen');
      assert.deepEqual(groupRunning(pgid), [], 'the script and everything it started are gone');
      const lastBeat = Number(fs.readFileSync(beat, 'utf8').trim());
      assert.ok(
        lastBeat < Date.parse(lease!),
        `the script's last beat (${new Date(lastBeat).toISOString()}) is before the lease ran out (${lease})`,
      );
      const atResolution = await taskSnapshot(observer, taskId);
      assert.match(
        atResolution.row.error_message ?? '',
        new RegExp(`Node ${victim.nodeName} stopped responding .*Step 1.*redeploy to retry`),
      );
      assert.equal(atResolution.row.node_id, victim.nodeName);

      // the victim comes back: it gives the task up, and every write it tries as owner is refused
      const back = new Date().toISOString();
      if (label === 'stop') v.child.kill('SIGCONT');
      else proxy!.restore();
      await waitFor('the victim to report no running task after it came back', async () => {
        const n = await observer.db
          .selectFrom('server_nodes')
          .select(['last_seen', 'running_tasks'])
          .where('id', '=', victim.nodeName)
          .executeTakeFirst();
        return n && n.last_seen > back && Number(n.running_tasks) === 0;
      });
      assert.deepEqual(await taskSnapshot(observer, taskId), atResolution, 'nothing of the victim landed');
      assert.equal(
        fs.readFileSync(`${marks}/runs`, 'utf8').trim().split('\n').length,
        1,
        'the step ran once',
      );
      assert.equal(v.child.exitCode, null, 'the victim node is still running');
    });
  }
});
