import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createInstance } from '../../src/admin/create-instance.js';
import { writeCanary } from '../../src/admin/master-key-canary.js';
import type { ServerTarget } from '../../src/config/connection-string.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import type { ErrorCode } from '../../src/lib/error-codes.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { META, setMeta } from '../../src/storage/repositories/metadata-repository.js';
import { openStorage } from '../../src/storage/storage.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { assertNoSecrets, assertRefused, fileBytes } from '../helpers/cli-checks.js';
import {
  createMysqlUser,
  dropTestDatabases,
  mysqlAdmin,
  pgAdmin,
  secretPassword,
  testUserName,
} from '../helpers/db-admin.js';
import {
  ENGINES,
  MYSQL_HOST,
  MYSQL_PORT,
  type TestDatabase,
  tempDir,
  testDatabase,
} from '../helpers/engines.js';

/**
 * Bad input through the real CLI: each refusal has a clear message, exit code 2 (bad input or a
 * precondition; 1 for usage errors), and writes nothing: the instance config is unchanged byte for
 * byte, the registry is unchanged, and create-instance creates no home directory. No output shows
 * a password or the master key.
 */
const noMysql = !ENGINES.includes('mysql') && 'MariaDB is not in CUTTLE_TEST_ENGINES';
const noPostgres = !ENGINES.includes('postgres') && 'PostgreSQL is not in CUTTLE_TEST_ENGINES';

describe('bad input is refused clearly, with a non-zero exit, and nothing is written', () => {
  const root = tempDir('cli-bad');
  const registry = path.join(root, 'registry', 'instances.json');
  const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };
  const baseHome = path.join(root, 'base');
  const baseConfig = path.join(baseHome, 'cuttle.config.json');
  const baseKeyFile = path.join(baseHome, 'master.key');
  const neverHome = path.join(root, 'never');
  const wrongKeyFile = path.join(root, 'wrong.key');
  const secrets: string[] = [];
  const outputs: { args: string[]; r: CliResult }[] = [];
  const dbs: TestDatabase[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let snapshot: { config: string | null; registry: string | null };

  const cli = async (args: string[]) => {
    const r = await runCli(args, { env });
    outputs.push({ args, r });
    assertNoSecrets(r, secrets, args.join(' '));
    return r;
  };
  const createInto = (cs: string) =>
    cli(['create-instance', '--instance', 'never', '--home', neverHome, '--storage-connection-string', cs]);
  const configureTo = (cs: string, ...more: string[]) =>
    cli(['configure', '--instance', 'base', '--storage-connection-string', cs, ...more]);
  const password = () => {
    const p = secretPassword();
    secrets.push(p);
    return p;
  };
  function assertNothingWritten(label: string): void {
    assert.equal(fileBytes(baseConfig), snapshot.config, `${label}: the config file changed`);
    assert.equal(fileBytes(registry), snapshot.registry, `${label}: the registry changed`);
    assert.ok(!fs.existsSync(neverHome), `${label}: a home directory was created`);
  }

  before(async () => {
    // The instance every configure below targets: SQLite, created in-process to save a CLI start.
    process.env.CUTTLE_REGISTRY = registry;
    await createInstance({ name: 'base', home: baseHome });
    secrets.push(fs.readFileSync(baseKeyFile, 'utf8').trim());
    const wrongKey = randomBytes(32).toString('base64');
    fs.writeFileSync(wrongKeyFile, `${wrongKey}\n`);
    secrets.push(wrongKey);
    snapshot = { config: fileBytes(baseConfig), registry: fileBytes(registry) };
    assert.ok(snapshot.config && snapshot.registry);
  });
  after(async () => {
    await dropTestDatabases(dbs);
    for (const c of cleanups) await c();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('malformed, unresolvable, refused and SQL Server connection strings', async () => {
    const pw = password();
    // Both commands parse and connect through the same code; each case runs through one of them
    // (a CLI start costs seconds here) and the SQL Server string through both.
    type Via = 'create-instance' | 'configure';
    const cases: [string, string, Via[], ErrorCode, RegExp[]][] = [
      [
        'malformed URL',
        `postgres://cuttle:${pw}@/cuttle`,
        ['configure'],
        'CONNECTION_STRING_INVALID',
        [/not a valid URL|names no host/, /Examples:/],
      ],
      [
        'keyword form without a provider',
        `Host=127.0.0.1;Database=cuttle;Username=cuttle;Password=${pw}`,
        ['create-instance'],
        'CONNECTION_STRING_INVALID',
        [/needs Provider=PostgreSQL or Provider=MySQL/],
      ],
      [
        'unknown host',
        `Host=nohost.invalid;Port=5432;Database=cuttle;Username=cuttle;Password=${pw};Provider=PostgreSQL`,
        ['create-instance'],
        'DATABASE_UNREACHABLE',
        [/the host name "nohost\.invalid" does not resolve/],
      ],
      [
        'connection refused',
        `mysql://cuttle:${pw}@127.0.0.1:1/cuttle`,
        ['configure'],
        'DATABASE_UNREACHABLE',
        [/127\.0\.0\.1:1: connection refused/],
      ],
      [
        'SQL Server',
        'Data Source=sqlhost\\SQLEXPRESS;Initial Catalog=Octopus;Integrated Security=True',
        ['create-instance', 'configure'],
        'CONNECTION_STRING_INVALID',
        [
          /SQL Server connection string; Cuttle does not run on SQL Server/,
          /Cuttle supports SQLite, PostgreSQL and MySQL\/MariaDB/,
          /Host=sqlhost;Port=5432;Database=octopus;Username=cuttle;Password=[^;]+;Provider=PostgreSQL/,
        ],
      ],
    ];
    const runs = cases.flatMap(([label, cs, via, code, patterns]) =>
      via.map(async (v) => {
        const r = await (v === 'create-instance' ? createInto(cs) : configureTo(cs));
        return () => assertRefused(r, 2, code, patterns, `${v}: ${label}`);
      }),
    );
    for (const check of await Promise.all(runs)) check();
    assertNothingWritten('bad connection strings');
  });

  it('wrong password (MariaDB) and a database that does not exist', {
    skip: noMysql || noPostgres,
  }, async () => {
    // PostgreSQL here trusts loopback connections (pg_hba "trust"), so it never asks for a
    // password and a wrong one cannot be refused: the wrong-password case runs on MariaDB only.
    const pw = password();
    const wrong = password();
    const user = testUserName('pw');
    const existing = testDatabase('mysql', 'pw', { user, password: pw });
    const missingMysql = testDatabase('mysql', 'missing', { user, password: pw });
    const missingPg = testDatabase('postgres', 'missing', { password: pw });
    dbs.push(existing, missingMysql, missingPg);
    const dbName = (t: TestDatabase) => (t.target as ServerTarget).database;
    await mysqlAdmin([`CREATE DATABASE \`${dbName(existing)}\``]);
    const u = await createMysqlUser(user, pw, [
      { database: dbName(existing), privileges: 'ALL PRIVILEGES' },
      { database: dbName(missingMysql), privileges: 'ALL PRIVILEGES' },
    ]);
    cleanups.push(u.drop);
    const wrongCs = `mysql://${user}:${wrong}@${MYSQL_HOST}:${MYSQL_PORT}/${dbName(existing)}`;
    const [create, configure, missing1, missing2] = await Promise.all([
      createInto(wrongCs),
      configureTo(wrongCs),
      configureTo(missingMysql.connectionString),
      configureTo(missingPg.connectionString),
    ]);
    const login = new RegExp(`refused the login of user "${user}": wrong password or unknown user`);
    assertRefused(create, 2, 'DATABASE_LOGIN_FAILED', [login], 'create-instance with a wrong password');
    assertRefused(configure, 2, 'DATABASE_LOGIN_FAILED', [login], 'configure with a wrong password');
    assertRefused(
      missing1,
      2,
      'DATABASE_MISSING',
      [new RegExp(`database "${dbName(missingMysql)}" does not exist`)],
      'missing',
    );
    assertRefused(
      missing2,
      2,
      'DATABASE_MISSING',
      [new RegExp(`database "${dbName(missingPg)}" does not exist`)],
      'missing',
    );
    assertNothingWritten('wrong password / missing database');
  });

  it('PostgreSQL: a login without CREATE is reported with the grants that fix it', {
    skip: noPostgres,
  }, async () => {
    const role = testUserName('lim');
    const t = testDatabase('postgres', 'lim', { user: role });
    const name = (t.target as ServerTarget).database;
    await pgAdmin([`CREATE ROLE "${role}" LOGIN`, `CREATE DATABASE "${name}"`]);
    dbs.push(t);
    cleanups.push(() => pgAdmin([`DROP ROLE IF EXISTS "${role}"`]));
    await pgAdmin(['REVOKE CREATE ON SCHEMA public FROM PUBLIC'], name);
    const [check, create] = await Promise.all([
      cli(['database', 'check', '--storage-connection-string', t.connectionString, '--format', 'json']),
      createInto(t.connectionString),
    ]);
    assert.equal(check.code, 2, check.all);
    const report = JSON.parse(check.stdout) as {
      ok: boolean;
      privileges: { missing: string[]; fix: string[] };
    };
    assert.equal(report.ok, false);
    assert.ok(
      report.privileges.missing.some((m) => /CREATE on schema public/.test(m)),
      report.privileges.missing.join('\n'),
    );
    assert.ok(
      report.privileges.fix.includes(`GRANT ALL ON SCHEMA public TO "${role}";`),
      report.privileges.fix.join('\n'),
    );
    assertRefused(create, 2, 'DATABASE_PRIVILEGES_MISSING', [
      /lacks privileges Cuttle needs/,
      /CREATE on schema public/,
      /GRANT ALL ON SCHEMA public/,
    ]);
    assertNothingWritten('postgres privileges');
  });

  it('MariaDB: a user with only SELECT is reported with the grant that fixes it', {
    skip: noMysql,
  }, async () => {
    const pw = password();
    const user = testUserName('sel');
    const t = testDatabase('mysql', 'sel', { user, password: pw });
    const name = (t.target as ServerTarget).database;
    await mysqlAdmin([`CREATE DATABASE \`${name}\``]);
    dbs.push(t);
    const u = await createMysqlUser(user, pw, [{ database: name, privileges: 'SELECT' }]);
    cleanups.push(u.drop);
    const [check, create] = await Promise.all([
      cli(['database', 'check', '--storage-connection-string', t.connectionString]),
      createInto(t.connectionString),
    ]);
    const grant = `GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${user}'@'%';`;
    assertRefused(check, 2, 'DATABASE_PRIVILEGES_MISSING', [
      /Privileges\s+missing: INSERT on database/,
      /CREATE on database/,
      /Result: NOT OK/,
    ]);
    assert.ok(check.stdout.includes(grant), check.stdout);
    assertRefused(create, 2, 'DATABASE_PRIVILEGES_MISSING', [
      /lacks privileges Cuttle needs/,
      /INSERT on database/,
    ]);
    assert.ok(create.stderr.includes(grant), create.stderr);
    assertNothingWritten('mysql privileges');
  });

  it('a wrong master key is refused by the canary', async () => {
    const own = `sqlite:${path.join(baseHome, 'cuttle.db')}`;
    const [check, configure] = await Promise.all([
      cli(['database', 'check', '--instance', 'base', '--master-key-file', wrongKeyFile, '--format', 'json']),
      configureTo(own, '--master-key-file', wrongKeyFile),
    ]);
    assert.equal(check.code, 2, check.all);
    assert.equal(JSON.parse(check.stdout).canary, 'wrong-key');
    assertRefused(configure, 2, 'MASTER_KEY_WRONG', [
      /The master key does not match the database/,
      /--master-key-file/,
    ]);
    assertNothingWritten('wrong master key');
  });

  it('a schema newer than the code is refused by configure and reported by database check', async () => {
    const key = MasterKey.parse(fs.readFileSync(baseKeyFile, 'utf8'), 'test');
    const pw = password();
    const order = ['sqlite', 'mysql', 'postgres'] as const;
    const targets = order
      .filter((e) => ENGINES.includes(e))
      .map((engine) => testDatabase(engine, 'future', engine === 'postgres' ? { password: pw } : {}));
    dbs.push(...targets);
    for (const t of targets) {
      const storage = await openStorage(t.target, { create: true });
      try {
        await migrateToLatest(storage);
        await writeCanary(storage.db, key);
        await setMeta(storage.db, META.instanceId, randomUUID());
        await sql`INSERT INTO cuttle_migrations (name, timestamp) VALUES ('9999-future', '2030-01-01T00:00:00.000Z')`.execute(
          storage.db,
        );
      } finally {
        await storage.close();
      }
    }
    // configure refuses on every engine; the report of `database check` is engine-neutral code,
    // so it runs once (on the last engine, PostgreSQL with a password when all run).
    const checked = targets.at(-1)!;
    const [check, ...configured] = await Promise.all([
      cli(['database', 'check', '--storage-connection-string', checked.connectionString, '--format', 'json']),
      ...targets.map((t) => configureTo(t.connectionString)),
    ]);
    targets.forEach((t, i) => {
      assertRefused(
        configured[i]!,
        2,
        'DATABASE_SCHEMA_NEWER',
        [/newer than this Cuttle knows/, /Upgrade Cuttle/],
        `${t.engine} configure`,
      );
    });
    assert.equal(check!.code, 2, check!.all);
    const report = JSON.parse(check!.stdout) as { ok: boolean; schema: { state: string; version: number } };
    assert.equal(report.schema.state, 'newer', checked.engine);
    assert.equal(report.ok, false);
    assertNothingWritten('newer schema');
  });

  it('an unknown option is a usage error (exit 1) that echoes no password', async () => {
    const pw = password();
    const [bogus, typo] = await Promise.all([
      cli(['configure', '--instance', 'base', '--bogus']),
      cli([
        'create-instance',
        '--instance',
        'never',
        '--home',
        neverHome,
        `--storage-connection-strin=mysql://cuttle:${pw}@db.example.com/cuttle`,
      ]),
    ]);
    assertRefused(bogus, 1, 'USAGE_INVALID', [/unknown option '--bogus'/]);
    assertRefused(typo, 1, 'USAGE_INVALID', [
      /unknown option '--storage-connection-strin=mysql:\/\/cuttle:\*\*\*@/,
    ]);
    assertNothingWritten('unknown option');
  });

  it('no output of any command above shows a password or the master key', () => {
    assert.ok(outputs.length >= 10, `${outputs.length} commands ran`);
    for (const { args, r } of outputs) assertNoSecrets(r, secrets, args.join(' '));
  });
});
