/**
 * `npm run bench:queue -- [--count 200] [--nodes 3] [--gap-ms 1000] [--warmup 10]`
 *
 * Queue-to-start latency on an idle cluster (issue 18, "Wake-ups"): `nodes` executor processes
 * (bench/queue-to-start-node.ts, the production poll of 1 s) on one PostgreSQL database, and this
 * process queueing `count` tasks one at a time through a handle of its own, in a transaction as a
 * deployment is queued. Each task is timed from the commit of its enqueue to the first node's
 * `launched` event, as this process receives it over IPC (so a figure includes the IPC hop). The
 * next task is queued after a random pause of 0 to `gap-ms`, so tasks arrive at random moments of
 * the nodes' poll cycles. Runs twice in one go: the nodes listening (LISTEN/NOTIFY), then the same
 * nodes polling only. Prints p50, p95, p99 and max of each. Aim: p99 under 100 ms with
 * LISTEN/NOTIFY. Everything shares this machine's cores: the nodes, PostgreSQL and this process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { migrateToLatest } from '../src/storage/migrator.js';
import { openStorage, type Storage } from '../src/storage/storage.js';
import { enqueueTask } from '../src/tasks/task-queue.js';
import { testDatabase } from '../test/helpers/engines.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const count = Number(opt('--count', '200'));
const nodeCount = Number(opt('--nodes', '3'));
const gapMs = Number(opt('--gap-ms', '1000'));
const warmup = Number(opt('--warmup', '10'));
const NODE_SCRIPT = fileURLToPath(new URL('./queue-to-start-node.ts', import.meta.url));

type Mode = 'listen' | 'poll';
type NodeMessage = { ready: string } | { launched: string; nodeId: string; at: number; notifiedAt?: number };
/** What this process knows of a launch: when it heard of it (its clock), and the node's own times. */
type Launch = { heard: number; nodeId: string; at: number; notifiedAt?: number };

/** Wall-clock milliseconds at sub-millisecond resolution, comparable between the bench's processes. */
const now = () => performance.timeOrigin + performance.now();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who launched which task, and when this process heard of it. */
const launches = new Map<string, Launch>();
const waiters = new Map<string, () => void>();

/**
 * Starts the nodes one after another, a random pause of up to a second apart, so that their poll
 * cycles are out of step as those of nodes started at different times are.
 */
async function startNodes(connectionString: string, mode: Mode): Promise<ChildProcess[]> {
  const nodes: ChildProcess[] = [];
  for (let i = 0; i < nodeCount; i++) {
    if (i) await pause(Math.random() * 1000);
    nodes.push(await startNode(connectionString, mode, i));
  }
  return nodes;
}

function startNode(connectionString: string, mode: Mode, i: number): Promise<ChildProcess> {
  const child = fork(NODE_SCRIPT, [connectionString, mode, `${mode}-node-${i + 1}`], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a node exited with ${code} before it was ready`)));
    child.on('message', (m: NodeMessage) => {
      if ('ready' in m) resolve(child);
      else if (!launches.has(m.launched)) {
        const { launched: _, ...times } = m;
        launches.set(m.launched, { heard: now(), ...times });
        waiters.get(m.launched)?.();
      }
    });
  });
}

async function stopNodes(nodes: ChildProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          n.removeAllListeners('exit');
          n.once('exit', () => resolve());
          n.send('stop');
        }),
    ),
  );
}

function launched(taskId: string): Promise<Launch> {
  return new Promise((resolve) => {
    const done = () => {
      waiters.delete(taskId);
      resolve(launches.get(taskId)!);
    };
    if (launches.has(taskId)) done();
    else waiters.set(taskId, done);
  });
}

/** Queues one task in a transaction; resolves with its id and the time its commit returned. */
async function queue(storage: Storage): Promise<{ id: string; committed: number }> {
  const id = await storage.db.transaction().execute((tx) =>
    enqueueTask(tx, {
      kind: 'QueueToStart',
      spaceId: null,
      name: 'QueueToStart',
      description: 'bench/queue-to-start.ts',
      arguments: {},
    }),
  );
  return { id, committed: now() };
}

/** Nearest rank. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(storage: Storage, connectionString: string, mode: Mode) {
  const nodes = await startNodes(connectionString, mode);
  try {
    const latencies: number[] = [];
    /** commit to the launching node's notification, and from there to its launch */
    const toNotified: number[] = [];
    const toLaunch: number[] = [];
    const byNode = new Map<string, number>();
    for (let i = 0; i < warmup + count; i++) {
      await pause(Math.random() * gapMs);
      const { id, committed } = await queue(storage);
      const l = await launched(id);
      if (i < warmup) continue;
      latencies.push(l.heard - committed);
      if (l.notifiedAt !== undefined && l.notifiedAt >= committed - 1) {
        toNotified.push(l.notifiedAt - committed);
        toLaunch.push(l.at - l.notifiedAt);
      }
      byNode.set(l.nodeId, (byNode.get(l.nodeId) ?? 0) + 1);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p5099 = (v: number[]) => {
      const s = [...v].sort((a, b) => a - b);
      return s.length ? [percentile(s, 50), percentile(s, 99)] : undefined;
    };
    return {
      toNotified: p5099(toNotified),
      toLaunch: p5099(toLaunch),
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1]!,
      byNode: [...byNode.values()].sort((a, b) => b - a),
    };
  } finally {
    await stopNodes(nodes);
  }
}

const db = testDatabase('postgres', 'queuetostart');
const storage = await openStorage(db.target, { create: true });
try {
  await migrateToLatest(storage);
  console.log(
    `queue-to-start bench: ${count} tasks (after ${warmup} not counted), ${nodeCount} idle executor processes on one PostgreSQL (${storage.dialect.label}), poll every 1 s, a random pause of 0-${gapMs} ms between tasks, 2 cores shared`,
  );
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const results: Record<Mode, Awaited<ReturnType<typeof measure>>> = {
    listen: await measure(storage, db.connectionString, 'listen'),
    poll: await measure(storage, db.connectionString, 'poll'),
  };
  for (const [mode, r] of Object.entries(results) as [Mode, (typeof results)[Mode]][]) {
    const label = mode === 'listen' ? 'LISTEN/NOTIFY      ' : 'polling only (1 s) ';
    console.log(
      `  ${label} p50 ${ms(r.p50)}, p95 ${ms(r.p95)}, p99 ${ms(r.p99)}, max ${ms(r.max)} (tasks per node: ${r.byNode.join(', ')})`,
    );
  }
  const { listen, poll } = results;
  if (listen.toNotified && listen.toLaunch) {
    console.log(
      `  LISTEN/NOTIFY, split (p50 / p99): commit to notification ${listen.toNotified.map(ms).join(' / ')}; notification to launch ${listen.toLaunch.map(ms).join(' / ')}; the rest is the IPC hop to this process`,
    );
  }
  console.log(
    `  p99 polling / p99 LISTEN/NOTIFY: x${(poll.p99 / listen.p99).toFixed(0)}; aim p99 under 100 ms with LISTEN/NOTIFY: ${listen.p99 < 100 ? 'met' : 'NOT met'}`,
  );
} finally {
  await storage.close();
  await db.drop();
}
