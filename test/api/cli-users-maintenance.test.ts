import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import { main } from '../../src/cli/main.js';
import { getMaintenance } from '../../src/core/maintenance-service.js';
import { authenticateApiKey } from '../../src/core/user-service.js';
import { listEvents } from '../../src/storage/repositories/event-repository.js';
import { tempDir } from '../helpers/engines.js';

/**
 * `cuttle admin`, `cuttle user create` and `cuttle maintenance` through the CLI's `main` in this
 * process (a child process per command costs seconds of tsx start-up; test/e2e covers the real
 * binary). SQLite: the commands only call the services that test/api runs on every engine.
 */
async function runInProcess(args: string[], env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    process.exitCode = undefined;
    const code = await main(args);
    return { code, stdout, stderr, all: stdout + stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('sqlite: user and maintenance commands', () => {
  const root = tempDir('cli-users');
  const home = path.join(root, 'home');
  const env = { CUTTLE_REGISTRY: path.join(root, 'instances.json'), CUTTLE_MASTER_KEY: undefined };
  const adminKey = `API-${'A1'.repeat(14)}`;
  const deployerKey = `API-${'D2'.repeat(14)}`;
  const cli = (args: string[]) => runInProcess([...args, '--instance', 'u'], env);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('creates an administrator and a deployer with known keys, and toggles maintenance mode', async () => {
    const created = await runInProcess(['create-instance', '--instance', 'u', '--home', home], env);
    assert.equal(created.code, 0, created.all);

    const admin = await cli([
      'admin',
      '--username',
      'ops',
      '--password',
      'pa55-word-ops',
      '--api-key',
      adminKey,
    ]);
    assert.equal(admin.code, 0, admin.all);
    assert.match(admin.stdout, /Created administrator ops/);
    assert.ok(!admin.all.includes('pa55-word-ops'));
    const reset = await cli(['admin', '--username', 'ops', '--password', 'another-pass']);
    assert.equal(reset.code, 0, reset.all);
    assert.match(reset.stdout, /Updated administrator ops/);

    const user = await cli([
      'user',
      'create',
      '--username',
      'dee',
      '--role',
      'deployer',
      '--api-key',
      deployerKey,
    ]);
    assert.equal(user.code, 0, user.all);
    const generated = await cli(['user', 'create', '--username', 'gen', '--role', 'administrator']);
    assert.equal(generated.code, 0, generated.all);
    const shown = /API key: (API-[A-Z0-9]+)/.exec(generated.stdout)?.[1];
    assert.ok(shown, 'a generated key is printed once');

    const bad = await cli(['user', 'create', '--username', 'x', '--role', 'root']);
    assert.equal(bad.code, 1, 'a wrong role is a usage error');
    const both = await cli(['maintenance', '--on', '--off']);
    assert.equal(both.code, 1);
    const on = await cli(['maintenance', '--on']);
    assert.equal(on.code, 0, on.all);
    assert.match(on.stdout, /Maintenance mode is on/);

    const storage = await openInstanceStorage(
      loadInstance({ instance: 'u', config: path.join(home, 'cuttle.config.json') }),
    );
    try {
      assert.equal((await authenticateApiKey(storage.db, adminKey)).role, 'administrator');
      assert.equal((await authenticateApiKey(storage.db, deployerKey)).role, 'deployer');
      assert.equal((await authenticateApiKey(storage.db, shown!)).username, 'gen');
      assert.equal((await getMaintenance(storage.db)).IsInMaintenanceMode, true);
      const events = await listEvents(storage.db, { skip: 0, take: 50, categories: ['Modified'] });
      assert.ok(events.rows.some((e) => e.message.startsWith('Maintenance Configuration was changed')));
    } finally {
      await storage.close();
    }
    const off = await cli(['maintenance', '--off', '--format', 'json']);
    assert.equal(JSON.parse(off.stdout).IsInMaintenanceMode, false);
  });
});
