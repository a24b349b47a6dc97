import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openStorage } from '../../src/storage/storage.js';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith } from '../helpers/cli-checks.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';
import { hashes, isolateRegistry, makeInstance, type TestInstance } from './move-fixtures.js';

isolateRegistry('move-portable');

/**
 * Old rows outside the portable domain (a NUL, a 300-character name, written before the API
 * refused them) are named by the move preflight, table, row and column, before anything is
 * copied: PostgreSQL would refuse the NUL mid-copy, MariaDB the long name.
 */
describe('database move: values the target could refuse are named before the copy', {
  skip: !ENGINES.includes('postgres'),
}, () => {
  let ti: TestInstance;
  let target: TestDatabase;
  let envId = '';
  let projectId = '';
  before(async () => {
    ti = await makeInstance('sqlite', 'mport', { rowsPerTable: 3 });
    const s = await openStorage(ti.db.target);
    try {
      // raw SQL, as an old version or a hand edit would have written them (the API refuses both now)
      const env = await sql<{ id: string }>`SELECT min(id) AS id FROM environments`.execute(s.db);
      envId = env.rows[0]!.id;
      await sql`UPDATE environments SET name = 'bad' || char(0) || 'name' WHERE id = ${envId}`.execute(s.db);
      const proj = await sql<{ id: string }>`SELECT min(id) AS id FROM projects`.execute(s.db);
      projectId = proj.rows[0]!.id;
      await sql`UPDATE projects SET name = ${'p'.repeat(300)} WHERE id = ${projectId}`.execute(s.db);
    } finally {
      await s.close();
    }
    target = testDatabase('postgres', 'mporttgt');
  });
  after(async () => {
    await target?.drop().catch(() => {});
    await ti?.db.drop();
  });

  it('refused in preflight (MOVE_SOURCE_NOT_PORTABLE), each value named; nothing copied', async () => {
    const before = await hashes(ti.db.target);
    const r = await runCli([
      'database',
      'move',
      '--instance',
      ti.name,
      '--to',
      target.connectionString,
      '--yes',
    ]);
    assertFailedWith(r, 2, 'MOVE_SOURCE_NOT_PORTABLE');
    assert.match(
      r.all,
      new RegExp(
        `table environments, row ${envId}, column name holds a NUL character \\(U\\+0000\\) at position 3`,
      ),
    );
    assert.match(
      r.all,
      new RegExp(`table projects, row ${projectId}, column name is 300 characters long; at most 255`),
    );
    assert.deepEqual(await hashes(ti.db.target), before, 'the source is as it was');
    const t = await openStorage(target.target).catch(() => undefined);
    if (t) {
      try {
        const tables = await t.dialect.listTables(t.db);
        assert.deepEqual(tables, [], 'nothing was copied to the target');
      } finally {
        await t.close();
      }
    }
  });
});
