import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { bulkLoad } from '../../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import { createTableSql } from '../../src/storage/dialects/dialect.js';
import type { TableSpec } from '../../src/storage/schema/column-types.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { hashTable } from '../../src/storage/table-hash.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

const SPEC: TableSpec = {
  name: 'bulk_probe',
  columns: [
    { name: 'id', type: 'id' },
    { name: 'seq', type: 'int' },
    { name: 't', type: 'text', nullable: true },
    { name: 'lt', type: 'longtext', nullable: true },
    { name: 'j', type: 'json', nullable: true },
    { name: 'n', type: 'bigint', nullable: true },
    { name: 'big', type: 'int64', nullable: true },
    { name: 'b', type: 'bool', nullable: true },
    { name: 'ts', type: 'timestamp', nullable: true },
    { name: 'bl', type: 'blob', nullable: true },
  ],
  primaryKey: ['id', 'seq'],
};

const nasty = [
  '',
  'a"b',
  'tab\there',
  'new\nline',
  'cr\rlf',
  'back\\slash',
  "quo'te",
  ',comma',
  '\\N',
  'Ábc ✓ 🐙',
  'e\u0301',
  // escapes PostgreSQL's COPY has and MySQL's LOAD DATA does not (mysql-bulk-load.ts)
  'form\ffeed vertical\vtab back\bspace',
  'C:\\folder\\vault\\backup',
  '\\\f\\v',
];

function dataset(): CanonicalValue[][] {
  const rows: CanonicalValue[][] = [];
  for (let i = 0; i < 3000; i++) {
    const s = nasty[i % nasty.length]!;
    rows.push([
      i % 3 === 0 ? `Key-${i}` : i % 3 === 1 ? `key-${i}` : `KEY-${i}`,
      i,
      i % 7 === 0 ? null : s,
      `${s}${'x'.repeat(i % 50)}`,
      '{"b":1,"a":2,"a":3}',
      i % 5 === 0 ? null : 2 ** 53 - 1 - i,
      i % 2 ? '9223372036854775807' : '-9223372036854775808',
      i % 4 === 0 ? null : i % 2 === 0,
      new Date(Date.UTC(2024, 1, 29, 23, 59, 59, i % 1000)).toISOString(),
      i % 6 === 0 ? null : randomBytes(i % 40).toString('base64'),
    ]);
  }
  return rows;
}

async function* batches(rows: CanonicalValue[][], size = 700) {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

async function hashOf(storage: Storage): Promise<{ digest: string; rows: number }> {
  const d = await hashTable(storage.db, SPEC);
  return { digest: d.sha256, rows: d.rows };
}

describe('bulk load: the same canonical rows on every engine', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop();
  });
  const results = new Map<string, string>();
  const rows = dataset();

  for (const engine of ENGINES) {
    it(`${engine}: loads and reads back byte-exact`, async () => {
      const t = testDatabase(engine, 'bulk');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        const quote = engine === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;
        await sql.raw(createTableSql(storage.dialect, SPEC, quote)).execute(storage.db);
        let progressed = 0;
        const n = await bulkLoad(storage, SPEC, batches(rows), { onProgress: (r) => (progressed += r) });
        assert.equal(n, rows.length);
        assert.equal(progressed, rows.length);
        const h = await hashOf(storage);
        assert.equal(h.rows, rows.length);
        results.set(engine, h.digest);
        const first = results.values().next().value;
        assert.equal(h.digest, first, `${engine} hash equals the first engine's`);
      } finally {
        await storage.close();
      }
    });
  }

  it('a failing load leaves the table empty (atomic)', async () => {
    for (const engine of ENGINES) {
      const t = testDatabase(engine, 'bulkfail');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        const quote = engine === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;
        await sql.raw(createTableSql(storage.dialect, SPEC, quote)).execute(storage.db);
        async function* broken() {
          yield rows.slice(0, 100);
          throw new Error('source connection dropped');
        }
        await assert.rejects(bulkLoad(storage, SPEC, broken()), /source connection dropped/);
        const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM bulk_probe`.execute(storage.db);
        assert.equal(Number(r.rows[0]!.n), 0, `${engine}: no partial rows`);
      } finally {
        await storage.close();
      }
    }
  });
});
