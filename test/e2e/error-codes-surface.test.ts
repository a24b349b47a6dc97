import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, startApi } from '../helpers/api-server.js';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith } from '../helpers/cli-checks.js';
import { tempDir } from '../helpers/engines.js';

/** The stable code reaches every surface: CLI text, CLI JSON, and REST error bodies. */
describe('error codes on every surface', () => {
  const env = {
    CUTTLE_REGISTRY: path.join(tempDir('codes'), 'instances.json'),
    CUTTLE_MASTER_KEY: undefined,
  };

  it('the CLI prints error[CODE] and exits with the code of its kind', async () => {
    const r = await runCli(['show-master-key', '--instance', 'nowhere'], { env });
    assertFailedWith(r, 2, 'INSTANCE_NOT_FOUND', 'unknown instance');
    const bad = await runCli(
      [
        'create-instance',
        '--instance',
        'x',
        '--home',
        tempDir('codes-home'),
        '--storage-connection-string',
        'mssql://sa@db/x',
      ],
      { env },
    );
    assertFailedWith(bad, 2, 'CONNECTION_STRING_INVALID', 'unsupported scheme');
  });

  it("commander's own usage errors carry the usage code", async () => {
    const r = await runCli(['show-master-key', '--no-such-flag'], { env });
    assertFailedWith(r, 1, 'USAGE_INVALID', 'unknown option');
  });

  it('with --format json a failure is one JSON object on stdout', async () => {
    const r = await runCli(['backup', 'list', '--instance', 'nowhere', '--format', 'json'], { env });
    assert.equal(r.code, 2, r.all);
    const parsed = JSON.parse(r.stdout) as { error: { code: string; message: string; hints: string[] } };
    assert.equal(parsed.error.code, 'INSTANCE_NOT_FOUND');
    assert.match(parsed.error.message, /nowhere/);
    assert.ok(Array.isArray(parsed.error.hints));
  });

  describe('REST', () => {
    let fx: ApiFixture;
    before(async () => {
      fx = await startApi('sqlite', 'codes');
    });
    after(async () => fx?.close());

    it('answers Code beside ErrorMessage and Errors', async () => {
      const none = await call(fx, 'GET', '/api/spaces', undefined, null);
      assert.equal(none.status, 401);
      assert.equal(none.body.Code, 'UNAUTHORIZED');
      const missing = await call(fx, 'GET', '/api/Spaces-1/projects/Projects-999999', undefined, fx.adminKey);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.Code, 'NOT_FOUND');
      const route = await call(fx, 'GET', '/api/no-such-route', undefined, fx.adminKey);
      assert.equal(route.status, 404);
      assert.equal(route.body.Code, 'NOT_FOUND');
      const invalid = await fx.app.inject({
        method: 'POST',
        url: '/api/Spaces-1/environments',
        headers: { 'x-octopus-apikey': fx.adminKey, 'content-type': 'application/json' },
        payload: '{"Name": ',
      });
      assert.equal(invalid.statusCode, 400);
      assert.equal(invalid.json().Code, 'REQUEST_INVALID');
      const forbidden = await call(
        fx,
        'PUT',
        '/api/maintenanceconfiguration',
        { IsInMaintenanceMode: true },
        fx.deployerKey,
      );
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.Code, 'FORBIDDEN');
    });
  });
});
