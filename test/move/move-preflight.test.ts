import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import mysql from 'mysql2/promise';
import { writeKeyFile } from '../../src/crypto/key-source.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import type { ErrorCode } from '../../src/lib/error-codes.js';
import { openStorage } from '../../src/storage/storage.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { assertFailedWith } from '../helpers/cli-checks.js';
import { assertDatabaseGone } from '../helpers/db-admin.js';
import {
  ENGINES,
  MYSQL_HOST,
  MYSQL_PORT,
  PG_HOST,
  PG_PORT,
  tempDir,
  testDatabase,
} from '../helpers/engines.js';
import { hashes, isolateRegistry, makeInstance, type TestInstance } from './move-fixtures.js';

isolateRegistry('move-preflight');

describe('cuttle database move: preflight refuses bad targets, changes nothing', { concurrency: 4 }, () => {
  let ti: TestInstance;
  let baseline: Map<string, string>;
  const cleanup: (() => Promise<void>)[] = [];
  before(async () => {
    ti = await makeInstance('sqlite', 'mpf', { rowsPerTable: 10 });
    baseline = await hashes(ti.db.target);
  });
  after(async () => {
    for (const c of cleanup) await c().catch(() => {});
    // Every refusal left the source exactly as it was (not even maintenance mode was touched).
    assert.deepEqual(await hashes(ti.db.target), baseline);
    await ti.db.drop();
  });

  const move = (to: string, extra: string[] = [], env: Record<string, string> = {}) =>
    runCli(['database', 'move', '--instance', ti.name, '--to', to, '--yes', ...extra], { env });

  /** Refused before anything changed: exit 2 with the problem's own code, and the message names it. */
  function refused(r: CliResult, code: ErrorCode, pattern: RegExp) {
    assertFailedWith(r, 2, code);
    assert.match(r.all, pattern);
  }

  it('unreachable target', async () => {
    refused(
      await move(`postgres://postgres@127.0.0.1:1/nowhere`),
      'DATABASE_UNREACHABLE',
      /Cannot reach the database server at 127\.0\.0\.1:1/,
    );
  });

  it('SQL Server connection string', async () => {
    const r = await move('Data Source=sqlhost\\SQLEXPRESS;Initial Catalog=Octopus;Integrated Security=True');
    refused(r, 'CONNECTION_STRING_INVALID', /SQL Server connection string/);
    assert.match(r.all, /Provider=PostgreSQL/);
  });

  it('moving onto the current database', async () => {
    refused(
      await move(ti.db.connectionString),
      'MOVE_SAME_DATABASE',
      /is the database the instance uses now/,
    );
  });

  it('target not empty (another instance lives there)', async () => {
    const other = await makeInstance('sqlite', 'mpfother', { rowsPerTable: 1 });
    cleanup.push(other.db.drop);
    refused(await move(other.db.connectionString), 'MOVE_TARGET_NOT_EMPTY', /is not empty \(a Cuttle schema/);
  });

  it('wrong master key', async () => {
    const keyFile = path.join(tempDir('mpfkey'), 'other.key');
    writeKeyFile(keyFile, MasterKey.generate());
    const target = testDatabase('sqlite', 'mpfwk');
    const r = await move(target.connectionString, ['--master-key-file', keyFile]);
    refused(r, 'MASTER_KEY_WRONG', /master key does not match/);
    assert.ok(!fs.existsSync((target.target as { file: string }).file), 'no target file created');
  });

  for (const engine of ENGINES) {
    it(`the master key must be saved first (no --yes), and the ${engine} database it checked is gone again`, async () => {
      const target = testDatabase(engine, 'mpfyes');
      cleanup.push(() => target.drop());
      const r = await runCli(['database', 'move', '--instance', ti.name, '--to', target.connectionString]);
      refused(r, 'MASTER_KEY_NOT_SAVED', /Save the master key \(id [0-9a-f]{16}\)/);
      assert.match(r.all, /cuttle show-master-key --instance/);
      assert.match(r.all, /nothing was changed/);
      // the preflight created the database to check it; "nothing was changed" includes that
      await assertDatabaseGone(target.target, 'the database is gone');
    });
  }

  it('--dry-run prints the plan and exits 0, creating nothing', async () => {
    const target = testDatabase('sqlite', 'mpfdry');
    const r = await move(target.connectionString, ['--dry-run']);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /Steps:/);
    assert.match(r.stdout, /will be created/);
    assert.match(r.stdout, /Dry run: nothing was changed/);
    assert.ok(!fs.existsSync((target.target as { file: string }).file));
  });

  if (ENGINES.includes('mysql')) {
    it('wrong password (a MariaDB user with a password)', async () => {
      const user = `cuttle_wp_${randomBytes(3).toString('hex')}`;
      const admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root' });
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'the-right-one'`);
      cleanup.push(async () => {
        await admin.query(`DROP USER '${user}'@'%'`);
        await admin.end();
      });
      const r = await move(`mysql://${user}:not-the-password@${MYSQL_HOST}:${MYSQL_PORT}/cuttle_wp`);
      refused(r, 'DATABASE_LOGIN_FAILED', new RegExp(`refused the login of user "${user}"`));
      assert.ok(!r.all.includes('not-the-password'), 'the password is never printed');
    });
  }

  if (ENGINES.includes('postgres')) {
    it('target user lacking privileges (a real restricted PostgreSQL role)', async () => {
      const role = `cuttle_ro_${randomBytes(3).toString('hex')}`;
      const t = testDatabase('postgres', 'mpfpriv');
      const admin = await openStorage(t.target, { create: true });
      await sql.raw(`CREATE ROLE ${role} LOGIN PASSWORD 'restricted-pass'`).execute(admin.db);
      await sql
        .raw(`GRANT CONNECT ON DATABASE ${(t.target as { database: string }).database} TO ${role}`)
        .execute(admin.db);
      cleanup.push(async () => {
        await admin.close();
        await t.drop();
        const a = await openStorage({ ...t.target, database: 'postgres' } as never);
        await sql.raw(`DROP ROLE IF EXISTS ${role}`).execute(a.db);
        await a.close();
      });
      const db = (t.target as { database: string }).database;
      const r = await move(`postgres://${role}:restricted-pass@${PG_HOST}:${PG_PORT}/${db}`);
      refused(
        r,
        'DATABASE_PRIVILEGES_MISSING',
        /\[privileges\] DATABASE_PRIVILEGES_MISSING: User "cuttle_ro_\w+" lacks privileges/,
      );
      assert.match(r.all, /CREATE on schema public/);
      assert.match(r.all, new RegExp(`cuttle database grant --user ${role}`));
      assert.match(r.all, /GRANT ALL ON SCHEMA public/);
      assert.ok(!r.all.includes('restricted-pass'));
    });
  }
});
