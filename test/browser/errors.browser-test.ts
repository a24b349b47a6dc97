/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bashSteps } from '../helpers/bash-step.js';
import { type Browser, checkPage, openBrowser, signIn, waitForText } from './browser.js';
import { ADMIN, DEPLOYER, type PortalServer, startPortalServer } from './portal-server.js';

const KEY = `API-ERRORS${'B'.repeat(25)}`;

/** The REST API with the test's own administrator key (setup that is not what the test is about). */
function rest(url: string) {
  return async <T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { 'X-Octopus-ApiKey': KEY, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

describe("portal: a failed API call shows the server's message, its error code and the hints", () => {
  let server: PortalServer;
  let admin: Browser;
  let deployer: Browser;
  let call: ReturnType<typeof rest>;
  before(async () => {
    server = await startPortalServer('errors');
    const key = await server.cli(['admin', '--username', 'errors-admin', '--api-key', KEY]);
    if (key.code !== 0) throw new Error(key.all);
    call = rest(server.url);
    admin = await openBrowser();
    deployer = await openBrowser({ width: 390, height: 844 });
    await signIn(admin.page, server.url, ADMIN, server.adminPassword);
    await signIn(deployer.page, server.url, DEPLOYER, server.deployerPassword);
  });
  after(async () => {
    await call?.('PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: false }).catch(() => {});
    await admin?.close();
    await deployer?.close();
    await server?.stop();
  });

  it('an environment whose name is taken: the conflict with NAME_TAKEN, cleared by the next success', async () => {
    const page = admin.page;
    await page.goto(`${server.url}/app#/Spaces-1/environments`);
    await page.getByLabel('New environment').fill('Production');
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.getByRole('heading', { name: 'Production' }).waitFor();
    await page.getByLabel('New environment').fill('Production');
    await page.getByRole('button', { name: 'Add environment' }).click();
    const alert = page.getByRole('alert');
    await waitForText(alert, /An environment named "Production" already exists/);
    await waitForText(alert, /Error code NAME_TAKEN \(HTTP 409\)/);
    assert.equal(await page.locator('[data-error-code="NAME_TAKEN"]').count(), 1);
    await checkPage(page, 'error-name-taken');
    await page.getByLabel('New environment').fill('Staging');
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.getByRole('heading', { name: 'Staging' }).waitFor();
    await alert.waitFor({ state: 'detached' });
  });

  it('a task that does not exist: its page says so with NOT_FOUND instead of waiting forever', async () => {
    const page = admin.page;
    await page.goto(`${server.url}/app#/Spaces-1/tasks/ServerTasks-999999`);
    const alert = page.getByRole('alert');
    await waitForText(alert, /ServerTasks-999999/);
    await waitForText(alert, /Error code NOT_FOUND \(HTTP 404\)/);
  });

  it('a deploy refused in maintenance mode: MAINTENANCE_MODE and the hint on how to end it', async () => {
    const groups = await call<{ Items: { Id: string }[] }>('GET', '/api/Spaces-1/projectgroups');
    const lifecycles = await call<{ Items: { Id: string }[] }>('GET', '/api/Spaces-1/lifecycles');
    const project = await call<{ Id: string }>('POST', '/api/Spaces-1/projects', {
      Name: 'Refused',
      ProjectGroupId: groups.Items[0]!.Id,
      LifecycleId: lifecycles.Items[0]!.Id,
    });
    const procPath = `/api/Spaces-1/projects/${project.Id}/deploymentprocesses`;
    const proc = await call<Record<string, unknown>>('GET', procPath);
    await call('PUT', procPath, { ...proc, Steps: bashSteps('echo never') });
    await call('POST', '/api/Spaces-1/releases/create/v1', {
      ProjectName: 'Refused',
      ReleaseVersion: '1.0.0',
    });
    await call('PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: true });
    const d = deployer.page;
    await d.goto(`${server.url}/app#/Spaces-1/projects/${project.Id}`);
    await d.locator('[data-banner="maintenance"]').waitFor();
    const row = d.locator('tr[data-release="1.0.0"]');
    await row.getByRole('button', { name: /Deploy .* to…/ }).click();
    await row.getByRole('button', { name: 'Deploy to Production' }).click();
    const alert = row.getByRole('alert');
    await waitForText(alert, /maintenance mode/);
    await waitForText(alert, /Error code MAINTENANCE_MODE \(HTTP 409\)/);
    await waitForText(alert.getByRole('listitem'), /cuttle maintenance --off/);
    await checkPage(d, 'error-maintenance');
  });
});
