/**
 * `node --import tsx bench/portal-bench.ts [--projects 200] [--environments 5] [--lines 1000] [--busy 20]`
 *
 * The portal's three performance figures, measured in Debian's headless Chromium against a real
 * server (`cuttle run` on loopback, SQLite), after `npm run build`:
 * 1. JavaScript the first page loads, gzipped (what the server sends).
 * 2. The dashboard with projects x environments cells, each with a deployment: time from
 *    navigation start to the dashboard's data on screen (performance.mark in the page), cold
 *    and warm loads.
 * 3. Log streaming: a script prints `lines` lines, each with the time it printed it, while `busy`
 *    other deployments run; the page records when each line appears in its log view. p50/p95/max.
 * Prints the figures; no thresholds.
 */
/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openBrowser, signIn } from '../test/browser/browser.js';
import { ADMIN, startPortalServer } from '../test/browser/portal-server.js';
import { api } from '../test/e2e/service-helpers.js';
import { bashSteps } from '../test/helpers/bash-step.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt;
const PROJECTS = opt('--projects', 200);
const ENVS = opt('--environments', 5);
const LINES = opt('--lines', 1000);
const BUSY = opt('--busy', 20);

function firstPageJs(): { files: string[]; gzipBytes: number; rawBytes: number } {
  const dir = path.resolve(import.meta.dirname, '../dist/web');
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/app\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  let gz = 0;
  let raw = 0;
  for (const f of files) {
    const body = fs.readFileSync(path.join(dir, f));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  return { files, gzipBytes: gz, rawBytes: raw };
}

const median = (xs: number[]) => pct(xs, 50);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const js = firstPageJs();
console.log(
  `first page JavaScript: ${js.files.join(', ')}: ${(js.rawBytes / 1024).toFixed(1)} KB, ${(js.gzipBytes / 1024).toFixed(1)} KB gzipped`,
);

const server = await startPortalServer('bench', { taskCap: BUSY + 5 });
const browser = await openBrowser();
try {
  const keyOut = await server.cli([
    'admin',
    '--username',
    'bench-admin',
    '--api-key',
    `API-BENCH${'A'.repeat(26)}`,
  ]);
  if (keyOut.code !== 0) throw new Error(keyOut.all);
  const c = api(server.url, `API-BENCH${'A'.repeat(26)}`);
  const groups = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/projectgroups');
  const lifecycles = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/lifecycles');
  const envIds: string[] = [];
  for (let e = 0; e < ENVS; e++)
    envIds.push((await c.post<{ Id: string }>('/api/Spaces-1/environments', { Name: `Env ${e + 1}` })).Id);
  const t0 = Date.now();
  for (let p = 0; p < PROJECTS; p++) {
    const project = await c.post<{ Id: string; Name: string }>('/api/Spaces-1/projects', {
      Name: `Project ${String(p + 1).padStart(3, '0')}`,
      ProjectGroupId: groups.Items[0]!.Id,
      LifecycleId: lifecycles.Items[0]!.Id,
    });
    const procPath = `/api/Spaces-1/projects/${project.Id}/deploymentprocesses`;
    const proc = await c.get<Record<string, unknown>>(procPath);
    await c.put(procPath, { ...proc, Steps: bashSteps('echo ok') });
    const rel = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
      ProjectName: project.Name,
    });
    await c.post('/api/Spaces-1/deployments/create/untenanted/v1', {
      ProjectName: project.Name,
      ReleaseVersion: rel.ReleaseVersion,
      EnvironmentIds: envIds,
    });
  }
  for (;;) {
    const active = await c.get<{ TotalResults: number }>(
      '/api/Spaces-1/tasks/search?states=Queued,Executing&take=0',
    );
    if (active.TotalResults === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(
    `seeded ${PROJECTS} projects x ${ENVS} environments, ${PROJECTS * ENVS} deployments, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const page = browser.page;
  await signIn(page, server.url, ADMIN, server.adminPassword);
  const ready: number[] = [];
  for (let run = 0; run < 6; run++) {
    await page.goto(`${server.url}/app?run=${run}#/Spaces-1`);
    // functions, not strings: the portal's CSP forbids eval
    await page.waitForFunction(() => performance.getEntriesByName('cuttle:dashboard-ready').length > 0);
    const cells = await page.locator('td[data-cell] .cell').count();
    const t = (await page.evaluate(
      `performance.getEntriesByName('cuttle:dashboard-ready')[0].startTime`,
    )) as number;
    if (cells !== PROJECTS * ENVS) throw new Error(`expected ${PROJECTS * ENVS} cells, saw ${cells}`);
    ready.push(t);
  }
  console.log(
    `dashboard ${PROJECTS}x${ENVS}: data on screen ${ready.map((x) => x.toFixed(0)).join(', ')} ms after navigation (first load ${ready[0]!.toFixed(0)} ms, median of the warm loads ${median(ready.slice(1)).toFixed(0)} ms)`,
  );

  // Log latency while BUSY other deployments run (each prints a line every 50 ms for the whole test).
  const busyProject = await c.post<{ Id: string; Name: string }>('/api/Spaces-1/projects', {
    Name: 'Busy',
    ProjectGroupId: groups.Items[0]!.Id,
    LifecycleId: lifecycles.Items[0]!.Id,
  });
  const bp = `/api/Spaces-1/projects/${busyProject.Id}/deploymentprocesses`;
  await c.put(bp, {
    ...(await c.get<Record<string, unknown>>(bp)),
    Steps: bashSteps('for i in $(seq 1 800); do echo "busy $i"; sleep 0.05; done'),
  });
  const busyRel = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
    ProjectName: 'Busy',
  });
  for (let i = 0; i < BUSY; i++) {
    await c.post('/api/Spaces-1/deployments/create/untenanted/v1', {
      ProjectName: 'Busy',
      ReleaseVersion: busyRel.ReleaseVersion,
      EnvironmentIds: [envIds[i % ENVS]!],
    });
  }
  const watched = await c.post<{ Id: string; Name: string }>('/api/Spaces-1/projects', {
    Name: 'Watched',
    ProjectGroupId: groups.Items[0]!.Id,
    LifecycleId: lifecycles.Items[0]!.Id,
  });
  const wp = `/api/Spaces-1/projects/${watched.Id}/deploymentprocesses`;
  await c.put(wp, {
    ...(await c.get<Record<string, unknown>>(wp)),
    Steps: bashSteps(
      `sleep 2; for i in $(seq 1 ${LINES}); do echo "tick $i $(date +%s%3N)"; sleep 0.01; done`,
    ),
  });
  const wRel = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
    ProjectName: 'Watched',
  });
  const dep = await c.post<{ DeploymentServerTasks: { ServerTaskId: string }[] }>(
    '/api/Spaces-1/deployments/create/untenanted/v1',
    { ProjectName: 'Watched', ReleaseVersion: wRel.ReleaseVersion, EnvironmentIds: [envIds[0]!] },
  );
  const taskId = dep.DeploymentServerTasks[0]!.ServerTaskId;
  await page.goto(`${server.url}/app#/Spaces-1/tasks/${taskId}`);
  await page.locator('.log-space').waitFor({ state: 'attached' });
  await page.evaluate(`(() => {
    window.__lat = new Map();
    new MutationObserver((ms) => {
      const now = Date.now();
      for (const m of ms) for (const n of m.addedNodes) {
        const t = n.textContent || '';
        const x = /tick (\\d+) (\\d{13})/.exec(t);
        if (x && !window.__lat.has(x[1])) window.__lat.set(x[1], now - Number(x[2]));
      }
    }).observe(document.querySelector('.log-space'), { childList: true, subtree: true });
  })()`);
  await page.waitForFunction(
    (n) => (window as unknown as { __lat: Map<string, number> }).__lat.size >= n,
    LINES,
    {
      timeout: 300_000,
    },
  );
  const lat = (await page.evaluate(`[...window.__lat.values()]`)) as number[];
  const running = await c.get<{ TotalResults: number }>('/api/Spaces-1/tasks/search?states=Executing&take=0');
  console.log(
    `log latency over ${lat.length} lines with ${running.TotalResults - 1} other deployments running: p50 ${pct(lat, 50)} ms, p95 ${pct(lat, 95)} ms, max ${Math.max(...lat)} ms`,
  );
} finally {
  await browser.close();
  await server.stop();
}
