/**
 * `npm run bench:log-latency -- [--lines 1000] [--deployments 20] [--every-ms 5] [--storage CS]`
 *
 * Log streaming latency: how long after a script prints a line the line reaches a reader of the
 * task's stream (GET /api/portal/tasks/{id}/stream, the server-sent events the task page reads).
 * A real server (`cuttle run` as a child, on loopback; SQLite unless --storage names another
 * database) runs `deployments` deployments at once, each a Bash script printing a line with the
 * time it printed it every `every-ms` ms; this process reads one task's stream and takes, for each
 * of its `lines` lines, the time it was received minus the time in the line. The other
 * deployments print the same way, for longer, so they run until the watched one ended.
 * Prints p50/p95/p99/max; no thresholds.
 */
import os from 'node:os';
import { startPortalServer } from '../test/browser/portal-server.js';
import { bashSteps } from '../test/helpers/bash-step.js';
import { ADMIN_KEY_ARGS, benchApi, waitIdle } from './portal-seed.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const LINES = Number(opt('--lines', '1000'));
const DEPLOYMENTS = Number(opt('--deployments', '20'));
const EVERY_MS = Number(opt('--every-ms', '5'));
const STORAGE = opt('--storage', '');
/**
 * How the scripts wait between lines: `fork` runs sleep(1) each time (as most scripts would; on
 * 2 cores, 20 scripts forking 200 times a second each keep the load average near 20), `builtin`
 * waits in bash itself (a read that times out), so the load is Cuttle's handling of the output.
 */
const SLEEP = opt('--sleep', 'fork');
/**
 * `--script-nice N`: each script lowers its own CPU priority first (renice), as if Cuttle ran
 * scripts below its own priority: what the server's share of a saturated machine does to the figure.
 */
const SCRIPT_NICE = Number(opt('--script-nice', '0'));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A script printing `n` lines, each with bash's clock in microseconds (no fork for the time). */
const printer = (label: string, n: number, startDelayS: number) => {
  const wait = SLEEP === 'builtin' ? `read -t ${EVERY_MS / 1000} -u 3 || true` : `sleep ${EVERY_MS / 1000}`;
  const open =
    (SCRIPT_NICE ? `renice -n ${SCRIPT_NICE} -p $$ >/dev/null; ` : '') +
    (SLEEP === 'builtin' ? 'exec 3<> <(:); ' : '');
  return `${open}sleep ${startDelayS}; for i in $(seq 1 ${n}); do echo "${label} $i \${EPOCHREALTIME/./}"; ${wait}; done`;
};

const server = await startPortalServer('loglat', {
  taskCap: DEPLOYMENTS + 5,
  ...(STORAGE ? { storage: STORAGE } : {}),
});
try {
  const keyOut = await server.cli(ADMIN_KEY_ARGS.args);
  if (keyOut.code !== 0) throw new Error(keyOut.all);
  const c = benchApi(server.url, ADMIN_KEY_ARGS.key);
  const groups = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/projectgroups');
  const lifecycles = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/lifecycles');
  const env = await c.post<{ Id: string }>('/api/Spaces-1/environments', { Name: 'Bench' });
  const project = async (name: string, script: string) => {
    const p = await c.post<{ Id: string }>('/api/Spaces-1/projects', {
      Name: name,
      ProjectGroupId: groups.Items[0]!.Id,
      LifecycleId: lifecycles.Items[0]!.Id,
    });
    const procPath = `/api/Spaces-1/projects/${p.Id}/deploymentprocesses`;
    await c.put(procPath, { ...(await c.get<Record<string, unknown>>(procPath)), Steps: bashSteps(script) });
    const rel = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
      ProjectName: name,
    });
    return () =>
      c
        .post<{ DeploymentServerTasks: { ServerTaskId: string }[] }>(
          '/api/Spaces-1/deployments/create/untenanted/v1',
          { ProjectName: name, ReleaseVersion: rel.ReleaseVersion, EnvironmentIds: [env.Id] },
        )
        .then((d) => d.DeploymentServerTasks[0]!.ServerTaskId);
  };
  // The others start printing at once and print 1.5 times as long; the watched one starts after 3 s.
  const deployBusy = await project('Busy', printer('busy', Math.ceil(LINES * 1.5) + 600, 0));
  const deployWatched = await project('Watched', printer('tick', LINES, 3));
  const busy: string[] = [];
  for (let i = 0; i < DEPLOYMENTS - 1; i++) busy.push(await deployBusy());
  const taskId = await deployWatched();

  // Read the stream from before the task starts, so every line is received live.
  const latencies = new Map<number, number>();
  const counted: Promise<number>[] = [];
  const toNode: number[] = [];
  const toReader: number[] = [];
  const res = await fetch(`${server.url}/api/portal/tasks/${taskId}/stream`, {
    headers: { 'X-Octopus-ApiKey': ADMIN_KEY_ARGS.key },
  });
  if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = res.body.getReader();
  const tick = /^tick (\d+) (\d+)$/;
  for (let done = false; !done; ) {
    const r = await reader.read();
    if (r.done) break;
    const now = Date.now();
    buffered += decoder.decode(r.value, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end >= 0) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
      const event = /^event: (.*)$/m.exec(message)?.[1];
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (event === 'lines' && data) {
        for (const chunk of (JSON.parse(data) as { Chunks: { Text: string; Occurred: string }[] }).Chunks) {
          // a chunk's time is when the node took its first line: the two halves of that line's wait
          const first = tick.exec(chunk.Text.split('\n', 1)[0]!);
          if (first && !latencies.has(Number(first[1]))) {
            const took = Date.parse(chunk.Occurred);
            toNode.push(took - Number(first[2]) / 1000);
            toReader.push(now - took);
          }
          for (const line of chunk.Text.split('\n')) {
            const m = tick.exec(line);
            if (m && !latencies.has(Number(m[1]))) {
              latencies.set(Number(m[1]), now - Number(m[2]) / 1000);
              if (latencies.size === 1 || latencies.size === LINES) {
                // not awaited: the reading goes on meanwhile, so no receive time waits for it
                counted.push(
                  c
                    .get<{ TotalResults: number }>('/api/Spaces-1/tasks/search?states=Executing&take=0')
                    .then((a) => a.TotalResults),
                );
              }
            }
          }
        }
      }
      if (event === 'end') done = true;
    }
  }
  await reader.cancel().catch(() => {});
  const running = await Promise.all(counted);
  const states = new Map<string, number>();
  for (const id of busy) {
    const state = (await c.get<{ State: string }>(`/api/tasks/${id}`)).State;
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  for (const id of busy) await c.post(`/api/tasks/${id}/cancel`, {}).catch(() => {});
  await waitIdle(c);
  const lat = [...latencies.values()];
  if (lat.length < LINES) throw new Error(`received ${lat.length} of ${LINES} lines`);
  const f = (x: number) => x.toFixed(0);
  console.log(
    `the first line of each chunk (${toNode.length}): script to node p50 ${f(pct(toNode, 50))} ms, p95 ${f(pct(toNode, 95))} ms; node to reader (buffer, flush, stream) p50 ${f(pct(toReader, 50))} ms, p95 ${f(pct(toReader, 95))} ms`,
  );
  console.log(
    `the other deployments when the watched one ended: ${[...states].map(([k, n]) => `${n} ${k}`).join(', ')}`,
  );
  console.log(
    `log latency, ${lat.length} lines printed every ${EVERY_MS} ms (sleep: ${SLEEP}${SCRIPT_NICE ? `, scripts at nice ${SCRIPT_NICE}` : ''}), deployments executing at the first and last line ${running.join(' and ')} (${DEPLOYMENTS} started), load average ${os.loadavg()[0]!.toFixed(1)}, ${STORAGE ? STORAGE.split(':')[0] : 'sqlite'}: p50 ${f(pct(lat, 50))} ms, p95 ${f(pct(lat, 95))} ms, p99 ${f(pct(lat, 99))} ms, max ${f(Math.max(...lat))} ms`,
  );
} finally {
  await server.stop();
}
