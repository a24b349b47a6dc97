/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, checkPage, openBrowser, signIn, waitForText } from './browser.js';
import { ADMIN, DEPLOYER, type PortalServer, startPortalServer } from './portal-server.js';

const CANARY_VARIABLE = `canary-sensitive-${process.pid}-7f3a9c`;

async function writeScript(page: Page, script: string): Promise<void> {
  const editor = page.locator('.script-editor[data-ready="true"] .cm-content').last();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(script);
}

async function saveProcess(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save process' }).click();
  await waitForText(page.getByRole('status'), /Process saved/);
}

async function createRelease(page: Page, version: string): Promise<void> {
  await page.getByRole('link', { name: 'Releases' }).click();
  await page.getByLabel('Version (empty: next)').fill(version);
  await page.getByRole('button', { name: 'Create release' }).click();
  await page.locator(`tr[data-release="${version}"]`).waitFor();
}

async function deploy(page: Page, version: string, env: string): Promise<void> {
  const row = page.locator(`tr[data-release="${version}"]`);
  await row.getByRole('button', { name: /Deploy .* to…/ }).click();
  await row.getByRole('button', { name: `Deploy to ${env}` }).click();
}

async function taskState(page: Page, state: string): Promise<void> {
  await page.locator(`dd[data-task-state="${state}"]`).waitFor({ timeout: 60_000 });
}

describe('portal: from an empty instance to a deployment, watched live', () => {
  let server: PortalServer;
  let admin: Browser;
  let deployer: Browser;
  let projectUrl = '';
  before(async () => {
    server = await startPortalServer('deploy');
    admin = await openBrowser();
    deployer = await openBrowser({ width: 390, height: 844 });
    await signIn(admin.page, server.url, ADMIN, server.adminPassword);
  });
  after(async () => {
    await admin?.close();
    await deployer?.close();
    await server?.stop();
  });

  it('creates an environment and a project with a Bash step (CodeMirror editor)', async () => {
    const page = admin.page;
    await page.getByRole('link', { name: 'Environments' }).click();
    await page.getByLabel('New environment').fill('Staging');
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.getByRole('heading', { name: 'Staging' }).waitFor();
    await page.getByRole('link', { name: 'Projects', exact: true }).click();
    await page.getByRole('button', { name: 'Add project' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Web');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Web' }).waitFor();
    projectUrl = page.url().replace(/\/process$/, '');
    await page.getByRole('button', { name: 'Add script step' }).click();
    await page.getByLabel('Step 1 name').fill('Greet');
    await writeScript(page, 'for i in $(seq 1 200); do echo "line $i of #{Octopus.Environment.Name}"; done');
    // Bash is highlighted by the CodeMirror shell mode
    await page.locator('.cm-content span').first().waitFor();
    await saveProcess(page);
    await checkPage(page, 'process');
  });

  it('keeps a sensitive variable write-only: saved, shown as set, never sent back', async () => {
    const page = admin.page;
    await page.getByRole('link', { name: 'Variables' }).click();
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Name of variable 1').fill('Secret');
    await page.getByLabel('Variable 1 is sensitive').check();
    await page.getByLabel('Value of variable 1').fill(CANARY_VARIABLE);
    await page.getByRole('button', { name: 'Save variables' }).click();
    await waitForText(page.getByRole('status'), /Variables saved/);
    await page.getByText('Set (hidden)').waitFor();
    await page.reload();
    await page.getByText('Set (hidden)').waitFor();
  });

  it('opts the project into running a step again after its node died, from its settings', async () => {
    const page = admin.page;
    await page.goto(`${projectUrl}/settings`);
    const retry = page.getByLabel(/Run a step again when its server node dies/);
    assert.equal(await retry.isChecked(), false, 'off by default');
    await retry.check();
    await page.getByRole('button', { name: 'Save' }).click();
    await waitForText(page.getByRole('status'), /Saved/);
    await page.reload();
    assert.equal(await page.getByLabel(/Run a step again when its server node dies/).isChecked(), true);
    await checkPage(page, 'project-settings');
    await page.getByLabel(/Run a step again when its server node dies/).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await waitForText(page.getByRole('status'), /Saved/);
  });

  it('creates a release, deploys it, and watches the log stream to the end', async () => {
    const page = admin.page;
    await createRelease(page, '1.0.0');
    await checkPage(page, 'releases');
    await deploy(page, '1.0.0', 'Staging');
    await page.getByRole('heading', { name: /Deploy Web release 1.0.0 to Staging/ }).waitFor();
    await taskState(page, 'Success');
    await waitForText(page.getByText(/lines \(complete\)/), /20\d lines/);
    const log = page.getByRole('log');
    await log.getByText('line 200 of Staging').waitFor();
    await page.getByRole('navigation', { name: 'Activity' }).getByText('Greet').waitFor();
    await checkPage(page, 'task');
  });

  it('the dashboard shows the latest release per environment; the tasks list filters', async () => {
    const page = admin.page;
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const cell = page.locator('td[data-cell="Web/Staging"]');
    await waitForText(cell, /1\.0\.0\s*Success/);
    await checkPage(page, 'dashboard');
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.getByLabel('State').selectOption('Success');
    await page.getByRole('link', { name: /Deploy Web release 1.0.0/ }).waitFor();
    await page.getByLabel('State').selectOption('Failed');
    await waitForText(page.getByRole('status'), /^0 task\(s\)/);
    await page.getByLabel('State').selectOption('');
    await checkPage(page, 'tasks');
  });

  it('cancels a long deployment from its task page', async () => {
    const page = admin.page;
    await page.goto(`${projectUrl}/process`);
    await writeScript(page, 'echo "long one started"; sleep 600; echo never');
    await saveProcess(page);
    await createRelease(page, '1.0.1');
    await deploy(page, '1.0.1', 'Staging');
    await taskState(page, 'Executing');
    await page.getByRole('log').getByText('long one started').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await taskState(page, 'Canceled');
    assert.equal(await page.getByRole('log').getByText('never').count(), 0);
  });

  it('maintenance mode: the deployer is refused with the reason, the administrator still deploys', async () => {
    await signIn(deployer.page, server.url, DEPLOYER, server.deployerPassword);
    const page = admin.page;
    await page.goto(`${projectUrl}/process`);
    await writeScript(page, 'echo "deployed in maintenance"');
    await saveProcess(page);
    await createRelease(page, '1.0.2');
    await page.getByRole('link', { name: 'Configuration' }).click();
    await page.getByRole('link', { name: 'Maintenance', exact: true }).click();
    await page.getByRole('button', { name: 'Turn maintenance mode on' }).click();
    await page.locator('dd[data-maintenance="on"]').waitFor();
    await waitForText(page.locator('dd'), new RegExp(ADMIN));
    await checkPage(page, 'maintenance');
    // the deployer's page shows the banner (pushed by the live feed) and its deploy is refused
    const d = deployer.page;
    await d.locator('[data-banner="maintenance"]').waitFor();
    await d.goto(projectUrl);
    await checkPage(d, 'releases-deployer');
    await deploy(d, '1.0.2', 'Staging');
    await waitForText(d.getByRole('alert'), /maintenance mode/);
    // the administrator deploys the same release
    await page.goto(projectUrl);
    await deploy(page, '1.0.2', 'Staging');
    await taskState(page, 'Success');
    await page.getByRole('log').getByText('deployed in maintenance').waitFor();
    await page.goto(`${server.url}/app#/configuration/maintenance`);
    await page.getByRole('button', { name: 'Turn maintenance mode off' }).click();
    await page.locator('dd[data-maintenance="off"]').waitFor();
    await d.locator('[data-banner="maintenance"]').waitFor({ state: 'detached' });
  });

  it('an API key is shown once, and no secret reaches the browser in any answer', async () => {
    const page = admin.page;
    await page.goto(`${server.url}/app#/profile/apikeys`);
    await page.getByLabel('Purpose').fill('portal test');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = (await page.locator('[data-new-api-key]').textContent())?.trim() ?? '';
    assert.match(key, /^API-[A-Z0-9]{26,}$/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await page.getByRole('cell', { name: 'portal test' }).first().waitFor();
    await checkPage(page, 'api-keys');
    for (const b of [admin, deployer]) {
      await b.page.evaluate('1'); // let the last answers be read
    }
    const all = [...admin.answers, ...deployer.answers];
    assert.ok(all.length > 20, `answers seen: ${all.length}`);
    const leaks = all.filter((a) => a.body.includes(CANARY_VARIABLE)).map((a) => a.url);
    assert.deepEqual(leaks, [], 'the sensitive variable never reaches the browser');
    const keyAnswers = all.filter((a) => a.body.includes(key)).map((a) => new URL(a.url).pathname);
    assert.deepEqual(keyAnswers, [
      `/api/users/Users-1/apikeys`.replace('Users-1', keyAnswers[0]?.split('/')[3] ?? ''),
    ]);
    assert.equal(keyAnswers.length, 1, 'the API key is in the answer that created it only');
  });
});
