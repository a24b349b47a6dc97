import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServerTarget } from '../../src/config/connection-string.js';
import { LATEST_SCHEMA_VERSION } from '../../src/storage/migrator.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { assertNoSecrets, assertOk, assertRefused, fileBytes } from '../helpers/cli-checks.js';
import { createMysqlUser, dropTestDatabases, secretPassword, testUserName } from '../helpers/db-admin.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';

/**
 * The instance commands through the real CLI on each engine: create, list, show, check, show the
 * key, configure, refuse another instance's database, delete and re-register, join with the key.
 * Server engines use a password-bearing connection string (a MariaDB user with a password; on
 * PostgreSQL the password is ignored by trust authentication but still travels through the
 * commands), and no output, nor the config file, may show it.
 */
const ENGINE_LABEL = { sqlite: /^SQLite \d/, postgres: /^PostgreSQL \d/, mysql: /^MariaDB \d/ };

for (const engine of ENGINES) {
  describe(`${engine}: instance commands through the CLI`, () => {
    const root = tempDir(`cli-${engine}`);
    const registry = path.join(root, 'registry', 'instances.json');
    const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };
    const password = secretPassword();
    const homeA = path.join(root, 'home-a');
    const homeB = path.join(root, 'home-b');
    const homeJ = path.join(root, 'home-j');
    const configA = path.join(homeA, 'cuttle.config.json');
    const keyFileA = path.join(homeA, 'master.key');
    const user = engine === 'mysql' ? testUserName('pw') : undefined;
    const dbA = testDatabase(engine, 'clia', { user, password });
    const dbB = testDatabase(engine, 'clib', { user, password });
    const dbs: TestDatabase[] = [dbA, dbB];
    // SQLite instance A uses the default (a file in its home); the server engines a fresh database.
    const createA = engine === 'sqlite' ? [] : ['--storage-connection-string', dbA.connectionString];
    const joinA = engine === 'sqlite' ? `sqlite:${path.join(homeA, 'cuttle.db')}` : dbA.connectionString;
    // B in the keyword form admins copy from Octopus.
    const csB =
      engine === 'sqlite'
        ? dbB.connectionString
        : keywordForm(dbB.target as ServerTarget, engine === 'mysql' ? 'MySQL' : 'PostgreSQL');
    const secrets: string[] = [password];
    const outputs: { args: string[]; r: CliResult }[] = [];
    let dropUser: (() => Promise<void>) | undefined;
    let instanceIdA = '';

    async function cli(args: string[], opts: { showsKey?: boolean } = {}): Promise<CliResult> {
      const r = await runCli(args, { env });
      if (!opts.showsKey) {
        outputs.push({ args, r });
        assertNoSecrets(r, secrets, args.join(' '));
      }
      return r;
    }
    const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

    before(async () => {
      if (engine === 'mysql') {
        ({ drop: dropUser } = await createMysqlUser(user!, password, [
          { database: (dbA.target as ServerTarget).database, privileges: 'ALL PRIVILEGES' },
          { database: (dbB.target as ServerTarget).database, privileges: 'ALL PRIVILEGES' },
        ]));
      }
    });
    after(async () => {
      await dropTestDatabases(dbs);
      await dropUser?.();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('create-instance and configure; list-instances, show-configuration, database check and show-master-key', async () => {
      const created = await cli(['create-instance', '--instance', 'a', '--home', homeA, ...createA]);
      assertOk(created, 'create-instance');
      assert.match(created.stdout, /Created instance "a"/);
      const key = fs.readFileSync(keyFileA, 'utf8').trim();
      secrets.push(key);
      assertNoSecrets(created, [key], 'create-instance');
      const configured = await cli([
        'configure',
        '--instance',
        'a',
        '--listen',
        'http://0.0.0.0:8181',
        '--node-name',
        'node-x',
        '--task-cap',
        '7',
      ]);
      assertOk(configured, 'configure');
      assert.match(configured.stdout, /Saved listen, nodeName, taskCap for instance "a"/);

      const [list, show, check, shown] = await Promise.all([
        cli(['list-instances', '--format', 'json']),
        cli(['show-configuration', '--instance', 'a', '--format', 'json']),
        cli(['database', 'check', '--instance', 'a', '--format', 'json']),
        cli(['show-master-key', '--instance', 'a'], { showsKey: true }),
      ]);
      for (const r of [list, show, check, shown]) assertOk(r);
      assert.deepEqual(
        (json(list).instances as { name: string; configFile: string }[]).map((i) => [i.name, i.configFile]),
        [['a', configA]],
      );
      assert.equal(json(list).registry, registry);

      const cfg = json(show);
      assert.equal(cfg.Instance, 'a');
      assert.equal(cfg.Home, homeA);
      assert.match(String(cfg.MasterKeyId), /^[0-9a-f]{16}$/);
      assert.equal(cfg.StorageConnectionString, engine === 'sqlite' ? joinA : redacted(dbA));
      assert.equal(cfg.Listen, 'http://0.0.0.0:8181');
      assert.equal(cfg.NodeName, 'node-x');
      assert.equal(cfg.TaskCap, 7);
      assert.deepEqual(
        (cfg.History as { setting: string; previous: unknown }[]).map((h) => [
          h.setting,
          h.setting === 'nodeName' ? typeof h.previous : h.previous,
        ]),
        [
          ['listen', 'http://127.0.0.1:8080'],
          ['nodeName', 'string'],
          ['taskCap', 5],
        ],
        'the config history keeps the previous values',
      );

      const report = json(check);
      assert.match(String(report.engine), ENGINE_LABEL[engine]);
      assert.deepEqual(report.schema, {
        state: 'current',
        version: LATEST_SCHEMA_VERSION,
        latest: LATEST_SCHEMA_VERSION,
      });
      assert.equal(report.canary, 'ok');
      assert.deepEqual(report.privileges, { ok: true, missing: [], fix: [] });
      assert.equal(report.ok, true);
      assert.match(String(report.instanceId), /^[0-9a-f-]{36}$/);
      instanceIdA = String(report.instanceId);

      assert.equal(shown.stdout, `${key}\n`);
      assert.match(key, /^[A-Za-z0-9+/]{43}=$/);
      assert.equal(fs.statSync(keyFileA).mode & 0o777, 0o600);

      const raw = fs.readFileSync(configA, 'utf8');
      assert.ok(!raw.includes(password) && !raw.includes(key), 'no secret in the config file');
      const stored = JSON.parse(raw).storage as { connectionString: string; sealedPassword?: string };
      if (engine !== 'sqlite') assert.match(stored.sealedPassword ?? '', /^cuttle1\.[0-9a-f]{16}\./);
    });

    it("configure to another instance's database is refused unless --allow-other-instance", async () => {
      // B shares A's master key (so the canary opens) but is another instance (its own instance id).
      const b = await cli([
        'create-instance',
        '--instance',
        'b',
        '--home',
        homeB,
        '--storage-connection-string',
        csB,
        '--master-key-file',
        keyFileA,
      ]);
      assertOk(b, 'create-instance b');
      const before = fileBytes(configA);
      const refused = await cli(['configure', '--instance', 'a', `--storageConnectionString=${csB}`]);
      assertRefused(
        refused,
        2,
        'DATABASE_OTHER_INSTANCE',
        [/belongs to another Cuttle instance/, /--allow-other-instance/],
        'configure',
      );
      assert.equal(fileBytes(configA), before, 'config unchanged');

      const accepted = await cli([
        'configure',
        '--instance',
        'a',
        `--storageConnectionString=${csB}`,
        '--allow-other-instance',
      ]);
      assertOk(accepted, 'configure --allow-other-instance');
      assert.match(accepted.stdout, /Saved storage/);
      assert.ok(accepted.stdout.includes(`now uses ${redacted(dbB)}`), accepted.stdout);
      assert.ok(!fs.readFileSync(configA, 'utf8').includes(password), 'no password in the config file');
    });

    it('delete-instance keeps the files and says so; create-instance --config registers them again', async () => {
      const r = await cli(['delete-instance', '--instance', 'a']);
      assertOk(r, 'delete-instance');
      assert.match(r.stdout, /Removed instance "a" from the registry/);
      assert.match(r.stdout, /were not touched/);
      assert.ok(r.stdout.includes(`create-instance --instance a --config ${configA}`), r.stdout);
      assert.ok(fs.existsSync(configA) && fs.existsSync(keyFileA));
      if (engine === 'sqlite') assert.ok(fs.existsSync(path.join(homeA, 'cuttle.db')));
      const names = () =>
        (JSON.parse(fs.readFileSync(registry, 'utf8')).instances as { name: string }[]).map((i) => i.name);
      assert.deepEqual(names(), ['b']);

      const again = await cli(['create-instance', '--instance', 'a2', '--config', configA]);
      assertOk(again, 'create-instance --config');
      assert.match(again.stdout, /Registered instance "a2"/);
      assert.deepEqual(names().sort(), ['a2', 'b']);
      const cfg = json(await cli(['show-configuration', '--instance', 'a2', '--format', 'json']));
      assert.equal(cfg.Instance, 'a2');
      assert.equal(cfg.NodeName, 'node-x', 'settings survive the re-registration');
      assert.equal(cfg.StorageConnectionString, redacted(dbB));
      const history = cfg.History as { setting: string; previous: string }[];
      const last = history.filter((h) => h.setting === 'storage').at(-1)!;
      assert.equal(last.previous, `was ${engine === 'sqlite' ? joinA : redacted(dbA)}`, 'history keeps A');
    });

    it('joining an existing database needs its master key; without it or with a wrong one nothing is written', async () => {
      const wrongKeyFile = path.join(root, 'wrong.key');
      const wrongKey = randomBytes(32).toString('base64');
      fs.writeFileSync(wrongKeyFile, `${wrongKey}\n`);
      secrets.push(wrongKey);
      const join = [
        'create-instance',
        '--instance',
        'j',
        '--home',
        homeJ,
        '--storage-connection-string',
        joinA,
      ];
      const registryBefore = fileBytes(registry);
      const [noKey, badKey] = await Promise.all([
        cli(join),
        cli([...join, '--master-key-file', wrongKeyFile]),
      ]);
      assertRefused(
        noKey,
        2,
        'DATABASE_HAS_INSTANCE',
        [/already holds a Cuttle instance/, /--master-key-file/],
        'join without key',
      );
      assertRefused(badKey, 2, 'MASTER_KEY_WRONG', [/not the key of the instance/], 'join with a wrong key');
      assert.ok(!fs.existsSync(homeJ), 'no home directory was created');
      assert.equal(fileBytes(registry), registryBefore, 'registry unchanged');

      const joined = await cli([...join, '--master-key-file', keyFileA, '--format', 'json']);
      assertOk(joined, 'join');
      const result = json(joined);
      assert.equal(result.joined, true);
      assert.equal(result.name, 'j');
      assert.equal(result.instanceId, instanceIdA, 'the same instance');
      assert.equal(result.schemaVersion, LATEST_SCHEMA_VERSION);
      assert.equal(
        fs.readFileSync(path.join(homeJ, 'master.key'), 'utf8'),
        fs.readFileSync(keyFileA, 'utf8'),
      );
      assert.equal(fs.statSync(path.join(homeJ, 'master.key')).mode & 0o777, 0o600);
    });

    it('no output shows a password or the master key (only show-master-key prints the key)', () => {
      assert.ok(outputs.length >= 14, `${outputs.length} commands ran`);
      for (const { args, r } of outputs) assertNoSecrets(r, secrets, args.join(' '));
    });
  });
}

/** How Cuttle prints a database: the password replaced by `***`. */
function redacted(d: TestDatabase): string {
  if (d.target.engine === 'sqlite') return d.connectionString;
  const t = d.target;
  return `${t.engine}://${t.user}${t.password ? ':***' : ''}@${t.host}:${t.port}/${t.database}`;
}

function keywordForm(t: ServerTarget, provider: string): string {
  return `Host=${t.host};Port=${t.port};Database=${t.database};Username=${t.user};Password=${t.password};Provider=${provider}`;
}
