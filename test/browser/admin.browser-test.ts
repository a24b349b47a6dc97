/// <reference lib="dom" />
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, checkPage, openBrowser, signIn, waitForText } from './browser.js';
import { ADMIN, DEPLOYER, type PortalServer, startPortalServer } from './portal-server.js';

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ['GET', '/api/admin/backups'],
  ['POST', '/api/admin/backups', {}],
  ['GET', '/api/admin/database'],
  ['POST', '/api/admin/masterkey/reveal', { Password: 'x' }],
  ['PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: true }],
  ['PUT', '/api/octopusservernodes/node-admin', { IsInMaintenanceMode: true }],
  ['POST', '/api/admin/database-move', { To: 'sqlite:/tmp/x.db', DryRun: true }],
  ['POST', '/api/users', { Username: 'sneaky', CuttleRole: 'administrator' }],
];

describe('portal: configuration pages for administrators', () => {
  let server: PortalServer;
  let b: Browser;
  let phone: Browser;
  let masterKey = '';
  before(async () => {
    server = await startPortalServer('admin');
    const shown = await server.cli(['show-master-key']);
    masterKey = shown.stdout.trim();
    b = await openBrowser();
    phone = await openBrowser({ width: 390, height: 844 });
    await signIn(b.page, server.url, ADMIN, server.adminPassword);
    await signIn(phone.page, server.url, ADMIN, server.adminPassword);
  });
  after(async () => {
    await b?.close();
    await phone?.close();
    await server?.stop();
  });

  it('backups: create now with progress, list, verify, download', async () => {
    const page = b.page;
    await page.goto(`${server.url}/app#/configuration/backups`);
    await page.getByRole('button', { name: 'Back up now' }).click();
    const progress = page.getByRole('status', { name: 'Backup progress' });
    await waitForText(progress, /Success/, 120_000);
    const row = page.locator('tr[data-archive]').first();
    await row.waitFor();
    const file = (await row.getAttribute('data-archive')) ?? '';
    assert.match(file, /^cuttle-.*\.tar\.(gz|zst)$/);
    await row.getByRole('button', { name: 'Verify' }).click();
    await page.locator('[data-verify="ok"]').waitFor({ timeout: 120_000 });
    await waitForText(page.locator('[data-verify="ok"]'), /0 failed/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: 'Download' }).click(),
    ]);
    const saved = await download.path();
    const size = fs.statSync(saved).size;
    const onDisk = fs.statSync(`${server.home}/backups/${file}`).size;
    assert.equal(size, onDisk, 'the download is the whole archive');
    await page.getByLabel(/Schedule/).fill('daily 02:00');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText(/Next run:/).waitFor();
    await checkPage(page, 'backups');
  });

  it('nodes: heartbeat and the drain switch, with the banner while this node drains', async () => {
    const page = b.page;
    await page.goto(`${server.url}/app#/configuration/nodes`);
    const row = page.locator('tr[data-node="node-admin"]');
    await waitForText(row, /Taking tasks/);
    await row.getByRole('button', { name: 'Drain' }).click();
    await waitForText(row, /Draining/);
    await page.locator('[data-banner="draining"]').waitFor();
    const ping = await page.evaluate(async () => (await fetch('/api/octopusservernodes/ping')).status);
    assert.equal(ping, 418, 'the load balancer is told to move away');
    await checkPage(page, 'nodes');
    await row.getByRole('button', { name: 'Stop draining' }).click();
    await waitForText(row, /Taking tasks/);
    await page.locator('[data-banner="draining"]').waitFor({ state: 'detached' });
  });

  it('database: engine, version, size, schema and privileges', async () => {
    const page = b.page;
    await page.goto(`${server.url}/app#/configuration/database`);
    await page.locator('dl[data-database]').waitFor();
    await waitForText(page.locator('dd'), /SQLite/i);
    await waitForText(page.locator('dd'), /\d+ of \d+ \(current\)/);
    await checkPage(page, 'database');
    await page.getByRole('link', { name: 'Move database…' }).click();
    await page.getByLabel(/New database/).fill('postgres://nobody@127.0.0.1:1/nothing');
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await page.getByRole('alert').or(page.locator('[data-move-plan]')).first().waitFor({ timeout: 60_000 });
    await checkPage(page, 'database-move');
  });

  it('master key: refused with a wrong password, shown after the right one', async () => {
    const page = b.page;
    await page.goto(`${server.url}/app#/configuration/masterkey`);
    await page.getByLabel('Your password').fill('wrong');
    await page.getByRole('button', { name: 'Show the master key' }).click();
    await waitForText(page.getByRole('alert'), /password is wrong/);
    await page.getByLabel('Your password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Show the master key' }).click();
    const shown = (await page.locator('[data-master-key]').textContent())?.trim();
    assert.equal(shown, masterKey);
    await checkPage(page, 'master-key');
    await page.getByRole('button', { name: 'Hide' }).click();
  });

  it('users and roles; the audit log links each event to its document', async () => {
    const page = b.page;
    await page.goto(`${server.url}/app#/configuration/users`);
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill('carol-password-1');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('rowheader', { name: /carol/ }).waitFor();
    await checkPage(page, 'users');
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Category').selectOption('MasterKeyShown');
    await page.getByRole('cell', { name: /master key was shown to admin/ }).waitFor();
    await page.getByLabel('Category').selectOption('Created');
    const link = page.locator('a.doc-link', { hasText: /^Users-/ }).first();
    await link.click();
    await page.getByRole('heading', { name: 'Users and roles' }).waitFor();
    await page.goto(`${server.url}/app#/configuration/audit`);
    await page
      .getByRole('cell', { name: /signed in to the portal/ })
      .first()
      .waitFor();
    // the user filter (users= on the server): carol made no change, so her events are none
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'carol' });
    await page
      .getByRole('cell', { name: /signed in to the portal/ })
      .first()
      .waitFor({ state: 'detached' });
    await page.getByLabel('User', { exact: true }).selectOption({ label: ADMIN });
    await page
      .getByRole('cell', { name: /signed in to the portal/ })
      .first()
      .waitFor();
    const who = await page.locator('tbody tr td:nth-child(2)').allTextContents();
    assert.ok(who.length > 0);
    assert.deepEqual([...new Set(who)], [ADMIN], "only the chosen user's events");
    await checkPage(page, 'audit');
  });

  it('every configuration page at 390 px: no sideways overflow, no serious accessibility violation', async () => {
    for (const p of [
      'configuration',
      'configuration/maintenance',
      'configuration/nodes',
      'configuration/backups',
      'configuration/database',
      'configuration/masterkey',
      'configuration/users',
      'configuration/audit',
      'profile/apikeys',
    ]) {
      await phone.page.goto(`${server.url}/app#/${p}`);
      await phone.page.locator('main h1').waitFor();
      await phone.page.getByText(/^Loading/).waitFor({ state: 'detached' });
      await checkPage(phone.page, p.replace('/', '-'));
    }
  });

  it('a deployer reaches no administrator route through the portal, and sees no Configuration', async () => {
    const d = await openBrowser();
    try {
      await signIn(d.page, server.url, DEPLOYER, server.deployerPassword);
      const statuses = (await d.page.evaluate(`(async () => {
        const token = decodeURIComponent(document.cookie.split('; ').find((c) => c.startsWith('Octopus-Csrf-Token=')).split('=')[1]);
        const out = [];
        for (const [method, url, body] of ${JSON.stringify(ADMIN_ROUTES)}) {
          const r = await fetch(url, { method, headers: { 'content-type': 'application/json', 'X-Octopus-Csrf-Token': token },
            body: body === undefined ? undefined : JSON.stringify(body) });
          out.push(method + ' ' + url + ' ' + r.status);
        }
        return out;
      })()`)) as string[];
      assert.deepEqual(
        statuses,
        ADMIN_ROUTES.map(([m, u]) => `${m} ${u} 403`),
      );
      assert.equal(await d.page.getByRole('link', { name: 'Configuration' }).count(), 0);
      await d.page.goto(`${server.url}/app#/configuration/backups`);
      await d.page.getByRole('heading', { name: 'Not available' }).waitFor();
      const leaks = [...d.answers, ...b.answers, ...phone.answers]
        .filter((a) => a.body.includes(masterKey))
        .map((a) => new URL(a.url).pathname);
      assert.deepEqual(
        leaks,
        ['/api/admin/masterkey/reveal'],
        'the master key is only in the answer that shows it',
      );
    } finally {
      await d.close();
    }
  });
});
