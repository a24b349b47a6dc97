/**
 * `npm run bench:dashboard -- [--projects 200] [--environments 5] [--loads 6] [--storage CS]`,
 * after `npm run build:web` (the portal's files in dist/web).
 *
 * The dashboard's speed: a real server (`cuttle run` as a child, on loopback; SQLite unless
 * --storage names another database) with projects x environments cells, each with a finished
 * deployment (created over REST and run by the server), opened in Debian's headless Chromium by
 * a signed-in administrator. For each load: the time from navigation start to the dashboard
 * usable, i.e. its grid rendered (`performance.mark('cuttle:dashboard-ready')`, set by the page
 * once the cells are on screen, read through the Performance API), and where it went (the
 * document, the scripts, the API calls before the dashboard's own, and the dashboard answer, from
 * Resource Timing). The first load is cold (nothing cached), the others warm. No thresholds.
 */
/// <reference lib="dom" />
import os from 'node:os';
import { openBrowser, signIn } from '../test/browser/browser.js';
import { ADMIN, startPortalServer } from '../test/browser/portal-server.js';
import { bashSteps } from '../test/helpers/bash-step.js';
import { ADMIN_KEY_ARGS, benchApi, waitIdle } from './portal-seed.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const PROJECTS = Number(opt('--projects', '200'));
const ENVS = Number(opt('--environments', '5'));
const LOADS = Number(opt('--loads', '6'));
const STORAGE = opt('--storage', '');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Load {
  ready: number;
  dashboardAnswer: { start: number; end: number; bytes: number };
  before: string;
}

/** Read in the page (a string: the portal's CSP forbids eval'd functions from tsx's helpers). */
const MEASURE = `(() => {
  const ready = performance.getEntriesByName('cuttle:dashboard-ready')[0].startTime;
  const res = performance.getEntriesByType('resource');
  const dash = res.find((r) => /\\/api\\/Spaces-1\\/dashboard/.test(r.name));
  const before = res
    .filter((r) => r.startTime < (dash ? dash.startTime : ready) && !/event/.test(r.name))
    .map((r) => new URL(r.name).pathname.replace(/^\\/app\\/assets\\/.*\\.(js|css)$/, 'asset.$1') + ' ' + Math.round(r.startTime) + '-' + Math.round(r.responseEnd))
    .join(', ');
  return {
    ready,
    dashboardAnswer: dash
      ? { start: dash.startTime, end: dash.responseEnd, bytes: dash.encodedBodySize }
      : { start: 0, end: 0, bytes: 0 },
    before,
  };
})()`;

const server = await startPortalServer('dashboard', {
  taskCap: 20,
  ...(STORAGE ? { storage: STORAGE } : {}),
});
const browser = await openBrowser();
try {
  const keyOut = await server.cli(ADMIN_KEY_ARGS.args);
  if (keyOut.code !== 0) throw new Error(keyOut.all);
  const c = benchApi(server.url, ADMIN_KEY_ARGS.key);
  const groups = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/projectgroups');
  const lifecycles = await c.get<{ Items: { Id: string }[] }>('/api/Spaces-1/lifecycles');
  const envIds: string[] = [];
  for (let e = 0; e < ENVS; e++)
    envIds.push((await c.post<{ Id: string }>('/api/Spaces-1/environments', { Name: `Env ${e + 1}` })).Id);
  const t0 = Date.now();
  const seed = async (p: number) => {
    const name = `Project ${String(p + 1).padStart(3, '0')}`;
    const project = await c.post<{ Id: string }>('/api/Spaces-1/projects', {
      Name: name,
      ProjectGroupId: groups.Items[0]!.Id,
      LifecycleId: lifecycles.Items[0]!.Id,
    });
    const procPath = `/api/Spaces-1/projects/${project.Id}/deploymentprocesses`;
    const proc = await c.get<Record<string, unknown>>(procPath);
    await c.put(procPath, { ...proc, Steps: bashSteps('echo ok') });
    const rel = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
      ProjectName: name,
    });
    await c.post('/api/Spaces-1/deployments/create/untenanted/v1', {
      ProjectName: name,
      ReleaseVersion: rel.ReleaseVersion,
      EnvironmentIds: envIds,
    });
  };
  // four projects at a time: the server runs the deployments meanwhile
  for (let p = 0; p < PROJECTS; p += 4) {
    await Promise.all([p, p + 1, p + 2, p + 3].filter((i) => i < PROJECTS).map(seed));
  }
  await waitIdle(c);
  console.log(
    `seeded ${PROJECTS} projects x ${ENVS} environments, ${PROJECTS * ENVS} deployments run, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const page = browser.page;
  await signIn(page, server.url, ADMIN, server.adminPassword);
  // the cold load: signed in (the cookie kept), nothing of the portal in the browser's cache
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  const loads: Load[] = [];
  for (let run = 0; run < LOADS; run++) {
    await page.goto(`${server.url}/app?run=${run}#/Spaces-1`);
    await page.waitForFunction(() => performance.getEntriesByName('cuttle:dashboard-ready').length > 0);
    const cells = await page.locator('td[data-cell] .cell').count();
    if (cells !== PROJECTS * ENVS) throw new Error(`expected ${PROJECTS * ENVS} cells, saw ${cells}`);
    loads.push((await page.evaluate(MEASURE)) as Load);
  }
  const f = (x: number) => x.toFixed(0);
  for (const [i, l] of loads.entries()) {
    console.log(
      `load ${i + 1} (${i === 0 ? 'cold' : 'warm'}): usable at ${f(l.ready)} ms; dashboard answer ${f(l.dashboardAnswer.start)}-${f(l.dashboardAnswer.end)} ms (${(l.dashboardAnswer.bytes / 1024).toFixed(0)} KB); before it: ${l.before}`,
    );
  }
  const warm = loads.slice(1).map((l) => l.ready);
  console.log(
    `dashboard ${PROJECTS}x${ENVS} (${PROJECTS * ENVS} cells), ${STORAGE ? STORAGE.split(':')[0] : 'sqlite'}, load average ${os.loadavg()[0]!.toFixed(1)}: navigation to usable: cold ${f(loads[0]!.ready)} ms, warm ${warm.map(f).join(', ')} ms (median ${f(median(warm))} ms)`,
  );
} finally {
  await browser.close();
  await server.stop();
}
