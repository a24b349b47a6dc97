import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/actor.js';
import { LOCKOUT_FAILURES } from '../../src/core/sign-in-lockout.js';
import { createUser } from '../../src/core/user-service.js';
import { buildServer } from '../../src/server/build-server.js';
import type { App } from '../../src/server/route-deps.js';
import { type ApiFixture, call, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

interface Jar {
  session: string;
  csrf: string;
  setCookie: string[];
}

function setCookies(headers: Record<string, unknown>): string[] {
  const v = headers['set-cookie'];
  return Array.isArray(v) ? (v as string[]) : v ? [String(v)] : [];
}

async function login(app: App, username: string, password: string) {
  const r = await app.inject({
    method: 'POST',
    url: '/api/users/login',
    payload: { Username: username, Password: password },
  });
  const cookies = setCookies(r.headers);
  const value = (name: string) =>
    (cookies.find((c) => c.startsWith(`${name}=`)) ?? '').split(';')[0]!.slice(name.length + 1);
  const jar: Jar = {
    session: value('OctopusIdentificationToken'),
    csrf: decodeURIComponent(value('Octopus-Csrf-Token')),
    setCookie: cookies,
  };
  return { status: r.statusCode, body: r.json(), text: r.body, jar };
}

async function withSession(
  app: App,
  jar: Jar,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  opts: { body?: unknown; csrf?: string | null } = {},
) {
  const headers: Record<string, string> = {
    cookie: `OctopusIdentificationToken=${jar.session}; Octopus-Csrf-Token=${jar.csrf}`,
  };
  const csrf = opts.csrf === undefined ? jar.csrf : opts.csrf;
  if (csrf !== null) headers['x-octopus-csrf-token'] = csrf;
  const r = await app.inject({ method, url, headers, payload: opts.body as object | undefined });
  let body: Record<string, unknown> | undefined;
  try {
    body = r.json();
  } catch {}
  return { status: r.statusCode, body: body as Record<string, never>, text: r.body, headers: r.headers };
}

for (const engine of ENGINES) {
  describe(`${engine}: portal sessions, CSRF and lockout`, () => {
    let fx: ApiFixture;
    const password = 'correct horse battery staple';
    before(async () => {
      fx = await startApi(engine, 'portalsess');
      await createUser(fx.storage.db, SYSTEM_ACTOR, { username: 'alice', role: 'administrator', password });
      await createUser(fx.storage.db, SYSTEM_ACTOR, { username: 'dora', role: 'deployer', password });
      await createUser(fx.storage.db, SYSTEM_ACTOR, { username: 'locky', role: 'deployer', password });
    });
    after(async () => fx?.close());

    it('a wrong password is refused with 401, in the Octopus error shape, and sets no cookie', async () => {
      const r = await login(fx.app, 'alice', 'wrong password');
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.ErrorMessage, 'The username or password is wrong.');
      assert.deepEqual(r.body.Errors, []);
      assert.deepEqual(r.jar.setCookie, []);
      const unknown = await login(fx.app, 'nobody-here', 'whatever');
      assert.equal(unknown.status, 401);
      assert.equal(
        unknown.body.ErrorMessage,
        r.body.ErrorMessage,
        'the answer does not tell which users exist',
      );
    });

    it('signing in sets an HttpOnly SameSite session cookie and a readable CSRF cookie; the session authenticates', async () => {
      const r = await login(fx.app, 'ALICE', password);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.Username, 'alice');
      const session = r.jar.setCookie.find((c) => c.startsWith('OctopusIdentificationToken='))!;
      assert.match(session, /; HttpOnly/);
      assert.match(session, /; SameSite=Strict/);
      assert.match(session, /; Path=\//);
      const csrf = r.jar.setCookie.find((c) => c.startsWith('Octopus-Csrf-Token='))!;
      assert.doesNotMatch(csrf, /HttpOnly/);
      assert.match(csrf, /SameSite=Strict/);
      assert.ok(r.jar.session.length >= 40 && r.jar.csrf.length >= 40);
      // the database holds only the token's hash
      const rows = await fx.storage.db.selectFrom('portal_sessions').selectAll().execute();
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((row) => row.id !== r.jar.session && row.id.length === 64));
      const me = await withSession(fx.app, r.jar, 'GET', '/api/users/me');
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.Username, 'alice');
    });

    it('a state-changing request without the CSRF token, or with a wrong one, is refused (403) and changes nothing', async () => {
      const { jar } = await login(fx.app, 'alice', password);
      const before = await call(fx, 'GET', '/api/Spaces-1/environments?take=100');
      for (const csrf of [null, '', 'not-the-token', `${jar.csrf.slice(0, -1)}x`]) {
        const r = await withSession(fx.app, jar, 'POST', '/api/Spaces-1/environments', {
          body: { Name: `csrf-${String(csrf)}` },
          csrf,
        });
        assert.equal(r.status, 403, `${String(csrf)}: ${r.text}`);
        assert.match(r.body.ErrorMessage, /CSRF/);
        assert.ok(Array.isArray(r.body.Errors));
      }
      const still = await call(fx, 'GET', '/api/Spaces-1/environments?take=100');
      assert.equal(still.body.TotalResults, before.body.TotalResults, 'nothing was created');
      const okr = await withSession(fx.app, jar, 'POST', '/api/Spaces-1/environments', {
        body: { Name: 'csrf-ok' },
      });
      assert.equal(okr.status, 201, okr.text);
      // reads need no token
      const read = await withSession(fx.app, jar, 'GET', '/api/Spaces-1/environments', { csrf: null });
      assert.equal(read.status, 200);
      // API keys need none either: a browser never adds that header by itself
      const byKey = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'by-key' });
      assert.equal(byKey.status, 201, byKey.text);
    });

    it('sessions live in the database: another node (its own server and caches) accepts the cookie; sign-out ends it everywhere', async () => {
      const { jar } = await login(fx.app, 'alice', password);
      const other = await buildServer({ storage: fx.storage, key: fx.key, home: fx.home, nodeId: 'node-b' });
      try {
        assert.equal((await withSession(other, jar, 'GET', '/api/users/me')).status, 200);
        const noCsrf = await withSession(other, jar, 'POST', '/api/users/logout', { csrf: null });
        assert.equal(noCsrf.status, 403, 'sign-out needs the CSRF token too');
        const out = await withSession(other, jar, 'POST', '/api/users/logout');
        assert.equal(out.status, 200, out.text);
        const cleared = setCookies(out.headers);
        assert.ok(cleared.some((c) => c.startsWith('OctopusIdentificationToken=;') && /Max-Age=0/.test(c)));
        const after = await withSession(fx.app, jar, 'GET', '/api/users/me');
        assert.equal(after.status, 401, after.text);
        assert.match(after.body.ErrorMessage, /session has ended/);
      } finally {
        await other.close();
      }
      const forged = await withSession(fx.app, { ...jar, session: 'A'.repeat(43) }, 'GET', '/api/users/me');
      assert.equal(forged.status, 401);
    });

    it(`locks a username after ${LOCKOUT_FAILURES} failures: even the right password is refused until the lock ends`, async () => {
      for (let i = 1; i < LOCKOUT_FAILURES; i++) {
        const r = await login(fx.app, 'locky', `wrong-${i}`);
        assert.equal(r.status, 401);
        assert.equal(r.body.ErrorMessage, 'The username or password is wrong.');
      }
      const last = await login(fx.app, 'locky', 'wrong-last');
      assert.equal(last.status, 401);
      assert.match(last.body.ErrorMessage, /locked for \d+ more minute/);
      const right = await login(fx.app, 'locky', password);
      assert.equal(right.status, 401, 'the right password does not open a locked username');
      assert.match(right.body.ErrorMessage, /locked/);
      assert.deepEqual(right.jar.setCookie, []);
      const row = await fx.storage.db
        .selectFrom('sign_in_failures')
        .selectAll()
        .where('username_normalized', '=', 'locky')
        .executeTakeFirstOrThrow();
      assert.equal(Number(row.failures), LOCKOUT_FAILURES);
      assert.ok(row.locked_until && row.locked_until > new Date().toISOString());
      // other users are not affected
      assert.equal((await login(fx.app, 'dora', password)).status, 200);
      // once the lock has passed, the right password works and clears the count
      await fx.storage.db
        .updateTable('sign_in_failures')
        .set({ locked_until: new Date(Date.now() - 1000).toISOString() })
        .where('username_normalized', '=', 'locky')
        .execute();
      const again = await login(fx.app, 'locky', password);
      assert.equal(again.status, 200, again.text);
      const cleared = await fx.storage.db
        .selectFrom('sign_in_failures')
        .selectAll()
        .where('username_normalized', '=', 'locky')
        .executeTakeFirst();
      assert.equal(cleared, undefined);
      const events = await call(fx, 'GET', '/api/events?take=100');
      assert.ok(events.body.Items.some((e: { Category: string }) => e.Category === 'LoginFailed'));
    });

    it('a deployer session is refused administrator routes (403) and, in maintenance mode, changes (409)', async () => {
      const { jar } = await login(fx.app, 'dora', password);
      const admin = await withSession(fx.app, jar, 'PUT', '/api/maintenanceconfiguration', {
        body: { IsInMaintenanceMode: true },
      });
      assert.equal(admin.status, 403, admin.text);
      assert.equal((await withSession(fx.app, jar, 'GET', '/api/admin/backups')).status, 403);
      const on = await call(fx, 'PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: true });
      assert.equal(on.status, 200);
      try {
        const r = await withSession(fx.app, jar, 'POST', '/api/users/Users-1/apikeys', { body: {} });
        assert.equal(r.status, 409, r.text);
        assert.match(r.body.ErrorMessage, /maintenance mode/);
        // signing in still works in maintenance mode
        assert.equal((await login(fx.app, 'dora', password)).status, 200);
      } finally {
        await call(fx, 'PUT', '/api/maintenanceconfiguration', { IsInMaintenanceMode: false });
      }
    });

    it('API keys: created through a session, shown once, listed without the key, revoked (then refused)', async () => {
      const { jar, body: me } = await login(fx.app, 'dora', password);
      const created = await withSession(fx.app, jar, 'POST', `/api/users/${me.Id}/apikeys`, {
        body: { Purpose: 'ci' },
      });
      assert.equal(created.status, 201, created.text);
      const key = created.body.ApiKey as string;
      assert.match(key, /^API-/);
      const list = await withSession(fx.app, jar, 'GET', `/api/users/${me.Id}/apikeys`);
      assert.ok(!list.text.includes(key), 'the key is never shown again');
      assert.equal((await call(fx, 'GET', '/api/users/me', undefined, key)).status, 200);
      const admins = await call(fx, 'GET', '/api/users?take=100');
      const aliceId = admins.body.Items.find((u: { Username: string }) => u.Username === 'alice').Id;
      const other = await withSession(
        fx.app,
        jar,
        'DELETE',
        `/api/users/${aliceId}/apikeys/${created.body.Id}`,
      );
      assert.equal(other.status, 403, "a deployer cannot revoke another user's keys");
      const gone = await withSession(fx.app, jar, 'DELETE', `/api/users/${me.Id}/apikeys/${created.body.Id}`);
      assert.equal(gone.status, 200, gone.text);
      assert.equal((await call(fx, 'GET', '/api/users/me', undefined, key)).status, 401);
      const again = await withSession(
        fx.app,
        jar,
        'DELETE',
        `/api/users/${me.Id}/apikeys/${created.body.Id}`,
      );
      assert.equal(again.status, 404);
    });
  });
}
