import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTableSql } from '../../src/storage/dialects/dialect.js';
import { tableReadsOf } from '../../src/storage/dialects/table-reads.js';
import type { TableSpec } from '../../src/storage/schema/column-types.js';
import { withSnapshot } from '../../src/storage/snapshot.js';
import { dialectFactory, openStorage } from '../../src/storage/storage.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

/**
 * What the services rely on when they ask a dialect instead of comparing engine names: every
 * handle of an engine, a snapshot's included, reads tables the engine's way; the factory and the
 * connected dialect give the same answers; the answers that go together agree.
 */
describe('dialect capabilities', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop();
  });

  for (const engine of ENGINES) {
    it(`${engine}: the pool's and a snapshot's handles read tables the engine's way`, async () => {
      const t = testDatabase(engine, 'caps');
      dbs.push(t);
      const factory = dialectFactory(engine);
      const storage = await openStorage(t.target, { create: true });
      try {
        assert.equal(factory.engine, engine);
        assert.equal(factory.capabilities.engine, engine);
        assert.equal(storage.capabilities, factory.capabilities);
        assert.equal(storage.dialect.engine, engine);
        assert.equal(tableReadsOf(storage.db), factory.tableReads);
        // a backup reads every table through the snapshot's handle: it must keep the fast path
        const inSnapshot = await withSnapshot(storage, async (db) => tableReadsOf(db));
        assert.equal(inSnapshot, factory.tableReads);
      } finally {
        await storage.close();
      }
    });

    it(`${engine}: free space is known exactly where the database is a file, and then a restore takes two passes`, async () => {
      const t = testDatabase(engine, 'capsfree');
      dbs.push(t);
      const factory = dialectFactory(engine);
      const storage = await openStorage(t.target, { create: true });
      try {
        const file = factory.databaseFile(t.target);
        if (file !== undefined) assert.ok(fs.existsSync(file), `${file} is the database`);
        const free = await storage.dialect.freeSpace(storage.db);
        assert.equal(free === undefined, file === undefined);
        // the one-pass restore loads before it has the manifest's sizes to check the room with
        if (free !== undefined) assert.equal(factory.capabilities.onePassRestore, false);
      } finally {
        await storage.close();
      }
    });

    it(`${engine}: quoteIdentifier quotes names that hold the engine's quote character`, async () => {
      const t = testDatabase(engine, 'capsquote');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        const spec: TableSpec = {
          name: 'odd"name`x',
          columns: [
            { name: 'id', type: 'id', nullable: false },
            { name: 'v"`', type: 'int', nullable: true },
          ],
          primaryKey: ['id'],
        };
        const q = storage.capabilities.quoteIdentifier;
        await sql.raw(createTableSql(storage.dialect, spec, q)).execute(storage.db);
        await sql
          .raw(`INSERT INTO ${q(spec.name)} (${q('id')}, ${q('v"`')}) VALUES ('a', 1)`)
          .execute(storage.db);
        assert.ok((await storage.dialect.listTables(storage.db)).includes(spec.name));
      } finally {
        await storage.close();
      }
    });
  }
});
