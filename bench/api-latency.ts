/**
 * `node --import tsx bench/api-latency.ts [--engines sqlite,postgres] [--clients 100] [--seconds 10] [--warmup 3] [--tasks 1000] [--client wrk|node] [--log-level info|warn|silent]`
 *
 * Latency of `GET /api/Spaces-1/tasks` (the call every task waiter polls) under `clients`
 * concurrent keep-alive clients. The server runs in this process on a real socket. The load comes
 * from wrk (Debian package `wrk`, a C load generator, like autocannon but lighter) when it is
 * installed, else from fetch() clients in a worker thread: on 2 cores the Node clients take most
 * of a core themselves, which the wrk figures do not pay. Prints p50, p90, p99 and requests per
 * second per engine. Aim (issue 3): p99 under 50 ms. The server logs as a node does (pino at
 * `--log-level`, default info like `cuttle run`, to a file in a temporary home), so the per-request
 * log lines are part of the measured cost.
 *
 * The same load runs `--warmup` seconds before the measured run and is not counted: a fresh
 * process runs its first second or so of requests before V8 has compiled the hot path, and with
 * 100 clients queued behind those the cold start alone makes a p99 of several hundred ms (even for
 * an empty Fastify route), which says nothing about a node that has been serving for a while.
 * `--warmup 0` measures from cold. `loopP99`/`loopMax` are the server's event-loop delays during
 * the measured run: high latency with low loop delay means the machine, not the server, was busy.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { ensureSeedData } from '../src/core/seed-service.js';
import { ensureInitialAdmin } from '../src/core/user-service.js';
import { MasterKey } from '../src/crypto/master-key.js';
import { buildServer } from '../src/server/build-server.js';
import { createServerLogger } from '../src/server/server-logger.js';
import { migrateToLatest } from '../src/storage/migrator.js';
import { META, setMeta } from '../src/storage/repositories/metadata-repository.js';
import { openStorage } from '../src/storage/storage.js';
import { enqueueTask } from '../src/tasks/task-queue.js';
import { tempDir, testDatabase } from '../test/helpers/engines.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const engines = opt('--engines', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const clients = Number(opt('--clients', '100'));
const seconds = Number(opt('--seconds', '10'));
const warmup = Number(opt('--warmup', '3'));
const taskCount = Number(opt('--tasks', '1000'));
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const clientKind = opt('--client', hasWrk ? 'wrk' : 'node');
const logLevel = opt('--log-level', 'info');

const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, key, clients, seconds } = workerData;
const latencies = [];
let errors = 0;
const until = Date.now() + seconds * 1000;
async function client() {
  while (Date.now() < until) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { 'X-Octopus-ApiKey': key } });
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    latencies.push(performance.now() - t0);
  }
}
Promise.all(Array.from({ length: clients }, client)).then(() => parentPort.postMessage({ latencies, errors }));
`;

/** wrk's --latency report: "50%  12.34ms" lines and "Requests/sec: 1234.5". */
function parseWrk(out: string) {
  const ms = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { requests, errors, p50: ms('50'), p90: ms('90'), p99: ms('99') };
}

function runWrk(url: string, key: string, duration: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [
      '-t2',
      `-c${clients}`,
      `-d${duration}s`,
      '--latency',
      '-H',
      `X-Octopus-ApiKey: ${key}`,
      url,
    ]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

function runNodeClients(url: string, key: string, duration: number) {
  const worker = new Worker(LOAD, { eval: true, workerData: { url, key, clients, seconds: duration } });
  return new Promise<{ latencies: number[]; errors: number }>((res, rej) => {
    worker.once('message', res);
    worker.once('error', rej);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function benchEngine(engine: 'sqlite' | 'postgres') {
  const t = testDatabase(engine, 'benchapi');
  const storage = await openStorage(t.target, { create: true });
  // The home holds the server log: tens of MB per run at info level, so it goes afterwards.
  const home = tempDir('benchapi');
  try {
    await migrateToLatest(storage);
    await setMeta(storage.db, META.installationId, 'bench');
    await ensureSeedData(storage.db);
    const admin = await ensureInitialAdmin(storage.db);
    for (let i = 0; i < taskCount; i++) {
      await enqueueTask(storage.db, {
        kind: 'Bench',
        spaceId: 'Spaces-1',
        name: 'Deploy',
        description: `bench ${i}`,
        arguments: {},
      });
    }
    const logger = createServerLogger(
      logLevel,
      pino.destination({ dest: path.join(home, 'logs', 'server.log'), mkdir: true, sync: false }),
    );
    const app = await buildServer({
      storage,
      key: MasterKey.generate(),
      home,
      nodeId: 'bench',
      logger,
      isDraining: () => false,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}/api/Spaces-1/tasks`;
    if (warmup > 0) {
      if (clientKind === 'wrk') await runWrk(url, admin!.apiKey, warmup);
      else await runNodeClients(url, admin!.apiKey, warmup);
    }
    // How long the server's event loop was blocked: tells a slow server from a starved one.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const loop = () => {
      loopDelay.disable();
      return {
        loopP99: (loopDelay.percentile(99) / 1e6).toFixed(1),
        loopMax: (loopDelay.max / 1e6).toFixed(1),
      };
    };
    if (clientKind === 'wrk') {
      const w = parseWrk(await runWrk(url, admin!.apiKey, seconds));
      const blocked = loop();
      await app.close();
      return {
        engine,
        client: 'wrk',
        requests: w.requests,
        errors: w.errors,
        rps: Math.round(w.requests / seconds),
        p50: w.p50.toFixed(1),
        p90: w.p90.toFixed(1),
        p99: w.p99.toFixed(1),
        ...blocked,
      };
    }
    const result = await runNodeClients(url, admin!.apiKey, seconds);
    const blocked = loop();
    await app.close();
    const sorted = result.latencies.sort((a, b) => a - b);
    return {
      engine,
      client: 'node',
      requests: sorted.length,
      errors: result.errors,
      rps: Math.round(sorted.length / seconds),
      p50: pct(sorted, 50).toFixed(1),
      p90: pct(sorted, 90).toFixed(1),
      p99: pct(sorted, 99).toFixed(1),
      ...blocked,
    };
  } finally {
    await storage.close();
    await t.drop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const rows = [];
for (const e of engines) rows.push(await benchEngine(e));
console.log(
  `GET /api/Spaces-1/tasks, ${clients} clients, ${seconds} s after ${warmup} s of warm-up, ${taskCount} tasks in the table, log level ${logLevel}`,
);
console.table(rows);
