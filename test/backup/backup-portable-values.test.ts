import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith, assertOk } from '../helpers/cli-checks.js';
import { assertDatabaseGone } from '../helpers/db-admin.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { isolateRegistry, type SourceInstance, sourceInstance } from './setup.js';

const registry = isolateRegistry('bk-portable');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };

/**
 * Old values outside the portable domain (written before the API enforced it, or by hand) travel
 * in an archive: `backup verify` names them and the engines that cannot store them; a restore to
 * such an engine refuses before it loads them (the database it created is gone again); a restore
 * to an engine that holds them restores and warns.
 */
describe('backup: old values outside the portable domain', () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-portable');
  let source: SourceInstance;
  let archive = '';
  let nulRow = '';
  let longRow = '';
  const longName = `env-${'x'.repeat(296)}`;
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });
  before(async () => {
    source = await sourceInstance('sqlite', 'portable-src', dbs, 5);
    const file = (source.db.target as { file: string }).file;
    const raw = new Database(file);
    try {
      nulRow = (raw.prepare('SELECT id FROM projects ORDER BY id LIMIT 1').get() as { id: string }).id;
      raw
        .prepare(`UPDATE projects SET description = 'before' || char(0) || 'after' WHERE id = ?`)
        .run(nulRow);
      longRow = (raw.prepare('SELECT id FROM environments ORDER BY id LIMIT 1').get() as { id: string }).id;
      raw.prepare('UPDATE environments SET name = ? WHERE id = ?').run(longName, longRow);
    } finally {
      raw.close();
    }
    archive = path.join(work, 'old-values.tar.gz');
    assertOk(await runCli(['backup', 'create', '--instance', source.name, '--output', archive], { env }));
  });

  const nulLine = () => new RegExp(`table projects, row ${nulRow}, column description holds a NUL character`);
  const longLine = () => new RegExp(`table environments, row ${longRow}, column name is 300 characters long`);

  it('backup verify: intact (exit 0), names each value and the engines that refuse it', async () => {
    const r = await runCli(
      ['backup', 'verify', archive, '--master-key-file', path.join(source.home, 'master.key')],
      {
        env,
      },
    );
    assertOk(r);
    assert.match(r.stdout, /Result: OK/);
    assert.match(r.stdout, /but not to PostgreSQL or MySQL\/MariaDB/);
    assert.match(r.stdout, nulLine());
    assert.match(r.stdout, longLine());
    const json = await runCli(['backup', 'verify', archive, '--format', 'json'], { env });
    const v = JSON.parse(json.stdout) as { ok: boolean; notRestorableTo: string[]; nonPortable: string[] };
    assert.equal(v.ok, true);
    assert.deepEqual(v.notRestorableTo, ['PostgreSQL', 'MySQL/MariaDB']);
    assert.equal(v.nonPortable.length, 2);
  });

  const restoreTo = (db: TestDatabase, instance: string) =>
    runCli(
      [
        'backup',
        'restore',
        archive,
        '--storage-connection-string',
        db.connectionString,
        '--instance',
        instance,
        '--home',
        path.join(work, instance),
        '--master-key-file',
        path.join(source.home, 'master.key'),
      ],
      { env },
    );

  const refusing: [string, () => RegExp][] = [
    ['postgres', nulLine],
    ['mysql', longLine],
  ];
  for (const [engine, line] of refusing) {
    if (!ENGINES.includes(engine as 'postgres')) continue;
    it(`restore to ${engine}: ARCHIVE_NOT_PORTABLE naming the value, before loading it; the database is gone again`, async () => {
      const db = testDatabase(engine as 'postgres', `portable${engine}`);
      dbs.push(db);
      const r = await restoreTo(db, `portable-${engine}`);
      assertFailedWith(r, 2, 'ARCHIVE_NOT_PORTABLE');
      assert.match(r.all, line());
      assert.match(r.all, /nothing was restored/);
      assert.doesNotMatch(r.all, /invalid byte sequence|Data too long|truncated/i);
      await assertDatabaseGone(db.target, 'the database the restore created was dropped');
    });
  }

  it('restore to SQLite, which holds them: restored, with a warning naming each', async () => {
    const db = testDatabase('sqlite', 'portablesqlite');
    dbs.push(db);
    const r = await restoreTo(db, 'portable-sqlite');
    assertOk(r);
    assert.match(r.stdout, /Warning: 2 old value\(s\) are outside the portable domain/);
    assert.match(r.stdout, nulLine());
    assert.match(r.stdout, longLine());
    const raw = new Database((db.target as { file: string }).file, { readonly: true });
    try {
      const got = raw.prepare('SELECT name FROM environments WHERE id = ?').get(longRow) as { name: string };
      assert.equal(got.name, longName);
    } finally {
      raw.close();
    }
  });
});
