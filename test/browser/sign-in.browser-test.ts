/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, checkPage, openBrowser, signIn, waitForText } from './browser.js';
import { ADMIN, DEPLOYER, type PortalServer, startPortalServer } from './portal-server.js';

describe('portal: signing in and out', () => {
  let server: PortalServer;
  let b: Browser;
  before(async () => {
    server = await startPortalServer('signin');
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await server?.stop();
  });

  it('GET / leads to the sign-in page; a wrong password is refused with the reason', async () => {
    await b.page.goto(`${server.url}/`);
    assert.match(b.page.url(), /\/app$/);
    await b.page.getByRole('heading', { name: 'Sign in to Cuttle' }).waitFor();
    await checkPage(b.page, 'sign-in');
    await b.page.getByLabel('Username').fill(ADMIN);
    await b.page.getByLabel('Password').fill('not the password');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await waitForText(b.page.getByRole('alert'), /username or password is wrong/);
    assert.equal((await b.context.cookies()).length, 0, 'no cookie after a refused sign-in');
  });

  it('signs in: the session cookie is HttpOnly and SameSite, invisible to the page', async () => {
    await signIn(b.page, server.url, ADMIN, server.adminPassword);
    const cookies = await b.context.cookies();
    const session = cookies.find((c) => c.name === 'OctopusIdentificationToken');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    const csrf = cookies.find((c) => c.name === 'Octopus-Csrf-Token');
    assert.equal(csrf?.sameSite, 'Strict');
    const visible = await b.page.evaluate(() => document.cookie);
    assert.ok(!visible.includes('OctopusIdentificationToken'), 'scripts cannot read the session');
    assert.ok(visible.includes('Octopus-Csrf-Token'));
    await b.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('a state-changing request without the CSRF token is refused, with it accepted', async () => {
    const r = await b.page.evaluate(async () => {
      const noToken = await fetch('/api/Spaces-1/environments', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Name: 'no-csrf' }),
      });
      const token = document.cookie
        .split('; ')
        .find((c) => c.startsWith('Octopus-Csrf-Token='))!
        .split('=')[1]!;
      const withToken = await fetch('/api/Spaces-1/environments', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Octopus-Csrf-Token': decodeURIComponent(token) },
        body: JSON.stringify({ Name: 'with-csrf' }),
      });
      const list = await (await fetch('/api/Spaces-1/environments?take=100')).json();
      return {
        noToken: noToken.status,
        message: (await noToken.json()).ErrorMessage,
        withToken: withToken.status,
        names: list.Items.map((e: { Name: string }) => e.Name),
      };
    });
    assert.equal(r.noToken, 403);
    assert.match(r.message, /CSRF/);
    assert.equal(r.withToken, 201);
    assert.deepEqual(
      r.names.filter((n: string) => n.endsWith('csrf')),
      ['with-csrf'],
    );
  });

  it('signs out: the session ends on the server too', async () => {
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByRole('heading', { name: 'Sign in to Cuttle' }).waitFor();
    const status = await b.page.evaluate(async () => (await fetch('/api/users/me')).status);
    assert.equal(status, 401);
    await signIn(b.page, server.url, DEPLOYER, server.deployerPassword);
    await waitForText(b.page.locator('.user'), /deployer/);
    assert.equal(
      await b.page.getByRole('link', { name: 'Configuration' }).count(),
      0,
      'no admin menu for a deployer',
    );
  });
});
