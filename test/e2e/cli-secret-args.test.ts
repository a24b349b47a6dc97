import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSecretArgs } from '../../src/cli/secret-args.js';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith, assertNoSecrets, assertOk } from '../helpers/cli-checks.js';
import { PG_HOST, PG_PORT, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { isolateRegistry } from '../move/move-fixtures.js';

const registry = isolateRegistry('secret-args');
const env = { CUTTLE_REGISTRY: registry };
const CANARY = 'Canary-Pw-7f3a9e';

describe('passwords kept out of argv: --storage-connection-string-file, --password-file, "-" for stdin', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });

  it('the file and stdin forms become the option in this process only; a password in argv is warned about', () => {
    const dir = tempDir('secret-args-unit');
    const file = path.join(dir, 'cs');
    fs.writeFileSync(file, `postgres://u:${CANARY}@db/x\n`, { mode: 0o600 });
    const warnings: string[] = [];
    const io = { warn: (l: string) => warnings.push(l), readStdin: () => `${CANARY}\n` };
    assert.deepEqual(resolveSecretArgs(['configure', '--storage-connection-string-file', file], io), [
      'configure',
      `--storage-connection-string=postgres://u:${CANARY}@db/x`,
    ]);
    assert.deepEqual(resolveSecretArgs(['admin', '--password', '-'], io), ['admin', `--password=${CANARY}`]);
    assert.equal(warnings.length, 0, 'no warning for the file and stdin forms');
    resolveSecretArgs(
      ['configure', '--storage-connection-string', `Host=h;Password=${CANARY};Provider=PostgreSQL`],
      io,
    );
    resolveSecretArgs(['database', 'move', `--to=mysql://root:${CANARY}@h/db`], io);
    resolveSecretArgs(['admin', '--password', CANARY], io);
    assert.equal(warnings.length, 3, warnings.join('\n'));
    for (const w of warnings) assert.ok(!w.includes(CANARY), w);
    resolveSecretArgs(['configure', '--storage-connection-string', 'postgres://postgres@127.0.0.1/x'], io);
    assert.equal(warnings.length, 3, 'no password, no warning');
  });

  it('create-instance reads its connection string from a file and from stdin; the canary never printed', async () => {
    const db = testDatabase('postgres', 'secretfile');
    dbs.push(db);
    const dir = tempDir('secret-args');
    // trust authentication on loopback accepts any password: the canary travels all the way
    const cs = `postgres://postgres:${CANARY}@${PG_HOST}:${PG_PORT}/${(db.target as { database: string }).database}`;
    const file = path.join(dir, 'cs');
    fs.writeFileSync(file, `${cs}\n`, { mode: 0o600 });
    const created = await runCli(
      [
        'create-instance',
        '--instance',
        'sa',
        '--home',
        path.join(dir, 'home'),
        '--storage-connection-string-file',
        file,
      ],
      { env },
    );
    assertOk(created, 'create-instance from a file');
    assert.doesNotMatch(created.stderr, /warning: the password/);
    assertNoSecrets(created, [CANARY], 'create-instance from a file');

    const viaStdin = await runCli(['configure', '--instance', 'sa', '--storage-connection-string', '-'], {
      env,
      input: `${cs}\n`,
    });
    assertOk(viaStdin, 'configure from stdin');
    assertNoSecrets(viaStdin, [CANARY], 'configure from stdin');

    const inArgv = await runCli(['configure', '--instance', 'sa', '--storage-connection-string', cs], {
      env,
    });
    assertOk(inArgv, 'configure with the password in argv');
    assert.match(
      inArgv.stderr,
      /warning: the password given with --storage-connection-string is visible to other users/,
    );
    assertNoSecrets(inArgv, [CANARY], 'configure with the password in argv');

    const missing = await runCli(
      ['configure', '--instance', 'sa', '--storage-connection-string-file', path.join(dir, 'nope')],
      { env },
    );
    assertFailedWith(missing, 1, 'OPTION_INVALID', 'an unreadable file');
  });
});
