import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { LATEST_SCHEMA_VERSION, migrateToLatest, schemaStatus } from '../../src/storage/migrator.js';
import { nextId } from '../../src/storage/repositories/id-allocator.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import { openStorage } from '../../src/storage/storage.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

for (const engine of ENGINES) {
  describe(`${engine}: schema`, () => {
    const dbs: TestDatabase[] = [];
    after(async () => {
      for (const d of dbs) await d.drop();
    });

    it('migrations create exactly the logical schema, and report versions', async () => {
      const t = testDatabase(engine, 'schema');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        assert.equal((await schemaStatus(storage)).state, 'empty');
        assert.deepEqual(await migrateToLatest(storage), { from: 0, to: LATEST_SCHEMA_VERSION });
        assert.ok(LATEST_SCHEMA_VERSION >= 2);
        assert.equal((await schemaStatus(storage)).state, 'current');
        assert.deepEqual(
          await migrateToLatest(storage),
          { from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION },
          'idempotent',
        );
        const tables = new Set(await storage.dialect.listTables(storage.db));
        for (const spec of TABLES) {
          assert.ok(tables.has(spec.name), `table ${spec.name}`);
          const r = await sql<
            Record<string, unknown>
          >`SELECT * FROM ${sql.table(spec.name)} WHERE 1 = 0`.execute(storage.db);
          void r;
          const cols = await storage.db.introspection.getTables();
          const live = cols.find((x) => x.name === spec.name)!;
          assert.deepEqual(
            live.columns.map((c) => c.name).sort(),
            spec.columns.map((c) => c.name).sort(),
            `columns of ${spec.name}`,
          );
          for (const c of spec.columns) {
            assert.equal(
              live.columns.find((x) => x.name === c.name)!.isNullable,
              !!c.nullable,
              `${spec.name}.${c.name} nullability`,
            );
          }
        }
      } finally {
        await storage.close();
      }
    });

    it('refuses a schema newer than the code', async () => {
      const t = testDatabase(engine, 'newer');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        await migrateToLatest(storage);
        await sql`INSERT INTO cuttle_migrations (name, timestamp) VALUES ('9999-from-the-future', '2030-01-01T00:00:00.000Z')`.execute(
          storage.db,
        );
        const s = await schemaStatus(storage);
        assert.equal(s.state, 'newer');
        await assert.rejects(migrateToLatest(storage), /newer than this Cuttle knows/);
      } finally {
        await storage.close();
      }
    });

    it('allocates unique application ids under concurrency', async () => {
      const t = testDatabase(engine, 'ids');
      dbs.push(t);
      const s1 = await openStorage(t.target, { create: true });
      await migrateToLatest(s1);
      const s2 = await openStorage(t.target);
      try {
        const ids = await Promise.all(
          Array.from({ length: 60 }, (_, i) => nextId(i % 2 ? s1.db : s2.db, 'Projects')),
        );
        assert.equal(new Set(ids).size, 60);
        const inTrx = await s1.db
          .transaction()
          .execute(async (trx) => [await nextId(trx, 'Events'), await nextId(trx, 'Events')]);
        assert.equal(new Set(inTrx).size, 2);
      } finally {
        await s1.close();
        await s2.close();
      }
    });
  });
}
