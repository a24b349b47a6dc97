import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { bulkLoad } from '../../src/storage/bulk-load/bulk-loader.js';
import { buildIndexes, dropIndexes, missingIndexes } from '../../src/storage/bulk-load/deferred-indexes.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { tableSpec } from '../../src/storage/schema/tables.js';
import { openStorage } from '../../src/storage/storage.js';
import { hashTable } from '../../src/storage/table-hash.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

const SERVER_TASKS = tableSpec('server_tasks');

function tasks(n: number, from = 0): CanonicalValue[][] {
  const rows: CanonicalValue[][] = [];
  for (let i = from; i < from + n; i++) {
    rows.push(
      SERVER_TASKS.columns.map((c) => {
        if (c.name === 'id') return `ServerTasks-${i}`;
        if (c.nullable) return null;
        switch (c.type) {
          case 'int':
          case 'bigint':
            return i % 7;
          case 'int64':
            return String(i);
          case 'bool':
            return i % 2 === 0;
          case 'timestamp':
            return '2026-01-02T03:04:05.006Z';
          default:
            return `${c.name}-${i % 5}`;
        }
      }),
    );
  }
  return rows;
}

async function* once(rows: CanonicalValue[][]) {
  yield rows;
}

for (const engine of ENGINES) {
  describe(`${engine}: deferred index builds`, () => {
    const dbs: TestDatabase[] = [];
    after(async () => {
      for (const d of dbs) await d.drop();
    });

    it('drop, load, build gives the schema back with the same rows; both steps are idempotent', async () => {
      const t = testDatabase(engine, 'defer');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        await migrateToLatest(storage);
        assert.deepEqual(await missingIndexes(storage, SERVER_TASKS), []);
        await dropIndexes(storage, SERVER_TASKS);
        await dropIndexes(storage, SERVER_TASKS);
        const dropped = await missingIndexes(storage, SERVER_TASKS);
        const secondary = (SERVER_TASKS.indexes ?? []).map((i) => i.name);
        assert.deepEqual(dropped, engine === 'postgres' ? ['server_tasks_pkey', ...secondary] : secondary);

        await bulkLoad(storage, SERVER_TASKS, once(tasks(3000)));
        await buildIndexes(storage, SERVER_TASKS);
        await buildIndexes(storage, SERVER_TASKS);
        assert.deepEqual(await missingIndexes(storage, SERVER_TASKS), []);
        const d = await hashTable(storage.db, SERVER_TASKS);
        assert.equal(d.rows, 3000);

        // the primary key is enforced again after the build
        await assert.rejects(bulkLoad(storage, SERVER_TASKS, once(tasks(1, 5))));
      } finally {
        await storage.close();
      }
    });

    if (engine === 'postgres') {
      it('a duplicate key loaded without the primary key fails the build, naming the constraint', async () => {
        const t = testDatabase(engine, 'deferdup');
        dbs.push(t);
        const storage = await openStorage(t.target, { create: true });
        try {
          await migrateToLatest(storage);
          await dropIndexes(storage, SERVER_TASKS);
          await bulkLoad(storage, SERVER_TASKS, once([...tasks(10), ...tasks(1, 3)]));
          await assert.rejects(buildIndexes(storage, SERVER_TASKS), /server_tasks_pkey|duplicate/);
        } finally {
          await storage.close();
        }
      });
    }
  });
}
