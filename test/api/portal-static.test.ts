import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { App } from '../../src/server/route-deps.js';
import { type ApiFixture, call, startApi } from '../helpers/api-server.js';
import { tempDir } from '../helpers/engines.js';

describe('the portal is served by the server at /app', () => {
  let fx: ApiFixture;
  let built: App;
  let dir: string;
  before(async () => {
    fx = await startApi('sqlite', 'portalstatic');
    // a build of its own, so the test does not depend on whether dist/web exists
    dir = tempDir('portal-web');
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<!doctype html><title>Cuttle</title><script src="/app/assets/a-1.js"></script>',
    );
    fs.writeFileSync(path.join(dir, 'assets', 'a-1.js'), `console.log(${JSON.stringify('x'.repeat(2000))});`);
    const { portalRoutes } = await import('../../src/server/portal/static-files.js');
    // portalRoutes takes the folder as its third argument: a server that serves `dir`
    const Fastify = (await import('fastify')).default;
    built = Fastify() as unknown as App;
    portalRoutes(built, {} as never, dir);
    await built.ready();
  });
  after(async () => {
    await built?.close();
    await fx?.close();
  });

  it('GET / redirects to /app; /app is the page, revalidated, with a content security policy', async () => {
    const root = await fx.app.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/app');
    const page = await built.inject({ method: 'GET', url: '/app', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const slash = await built.inject({ method: 'GET', url: '/app/' });
    assert.equal(slash.statusCode, 200);
  });

  it('hashed assets are cached for a year and gzipped when asked; unknown files are 404', async () => {
    const js = await built.inject({
      method: 'GET',
      url: '/app/assets/a-1.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.match(String(js.headers['cache-control']), /immutable/);
    const plain = await built.inject({ method: 'GET', url: '/app/assets/a-1.js' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.body, /^console\.log/);
    assert.equal((await built.inject({ method: 'GET', url: '/app/assets/nope.js' })).statusCode, 404);
    assert.equal((await built.inject({ method: 'GET', url: '/app/../package.json' })).statusCode, 404);
  });

  it('without a build, /app says how to build it (503), and the API still works', async () => {
    const Fastify = (await import('fastify')).default;
    const { portalRoutes } = await import('../../src/server/portal/static-files.js');
    const bare = Fastify() as unknown as App;
    portalRoutes(bare, {} as never, tempDir('portal-empty'));
    const r = await bare.inject({ method: 'GET', url: '/app' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    await bare.close();
    const status = await call(fx, 'GET', '/api/portal/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.IsInMaintenanceMode, false);
    assert.equal(status.body.NodeName, 'test-node');
    assert.equal((await call(fx, 'GET', '/api/portal/status', undefined, null)).status, 401);
  });
});
