import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { bulkLoadText, rowTextOf } from '../../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import { createTableSql } from '../../src/storage/dialects/dialect.js';
import type { TableSpec } from '../../src/storage/schema/column-types.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { hashTable, hashTableMatching } from '../../src/storage/table-hash.js';
import { type ReadOrder, readTableText } from '../../src/storage/table-reader.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

/**
 * Natural-order reads (table-reader.ts) and the check that relies on them (hashTableMatching):
 * a table bulk-loaded with `replace` reads back in load order where the engine promises it, rows
 * of very different sizes included (on PostgreSQL a plain COPY into a table that had rows puts a
 * small row into an earlier page with room, out of load order; TRUNCATE in the load's transaction
 * keeps it from consulting the free space map).
 */
const SPEC: TableSpec = {
  name: 'order_probe',
  columns: [
    { name: 'id', type: 'id' },
    { name: 'seq', type: 'int' },
    { name: 'body', type: 'longtext', nullable: true },
    { name: 'bl', type: 'blob', nullable: true },
  ],
  primaryKey: ['id', 'seq'],
};

/** Rows in no key order, with bodies from empty to ~6 KB so pages fill unevenly. */
function shuffledRows(n: number): CanonicalValue[][] {
  const rows: CanonicalValue[][] = [];
  for (let i = 0; i < n; i++) {
    const k = (i * 7919) % n;
    const size = (k * 2654435761) % 6000;
    rows.push([
      `Row-${k}`,
      k % 3,
      k % 11 === 0 ? null : `${'b'.repeat(size)}\t${k}\\`,
      k % 5 === 0 ? null : randomBytes(k % 17).toString('base64'),
    ]);
  }
  return rows;
}

async function* one<T>(x: T) {
  yield x;
}

async function textOf(storage: Storage, order: ReadOrder): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of readTableText(storage.db, SPEC, { order })) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function loaded(rows: CanonicalValue[][]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of rowTextOf(SPEC, one(rows))) parts.push(p);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('natural-order reads of a bulk-loaded table', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop();
  });
  const rows = shuffledRows(4000);

  for (const engine of ENGINES) {
    it(`${engine}: reads back in load order (or key order where the engine keeps rows by key)`, async () => {
      const t = testDatabase(engine, 'norder');
      dbs.push(t);
      const storage = await openStorage(t.target, { create: true });
      try {
        const quote = engine === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;
        await sql.raw(createTableSql(storage.dialect, SPEC, quote)).execute(storage.db);
        // rows that were there before: the load replaces them, as a resumed copy's would be
        const stale = await loaded(shuffledRows(300).map((r) => [`Stale-${r[0]}`, ...r.slice(1)]));
        await bulkLoadText(storage, SPEC, one(stale));
        if (engine !== 'postgres') await sql`DELETE FROM ${sql.table(SPEC.name)}`.execute(storage.db);
        const text = await loaded(rows);
        const pieces = async function* () {
          for (let i = 0; i < text.length; ) {
            const end = text.indexOf(10, Math.min(text.length - 1, i + 50_000));
            yield text.subarray(i, end + 1);
            i = end + 1;
          }
        };
        assert.equal(await bulkLoadText(storage, SPEC, pieces(), { replace: true }), rows.length);

        const natural = await textOf(storage, 'natural');
        const byKey = await textOf(storage, 'key');
        assert.notDeepEqual(text, byKey, 'the load order is not key order');
        if (storage.capabilities.loadOrderIsNatural)
          assert.ok(natural.equals(text), `${engine}: natural order is load order`);
        else assert.ok(natural.equals(byKey), `${engine}: natural order is key order`);

        // the copy's check: the stream's digest matches on the first (natural) read
        const keyDigest = await hashTable(storage.db, SPEC, { order: 'key' });
        const streamed = storage.capabilities.loadOrderIsNatural
          ? { rows: rows.length, sha256: sha(text), order: 'natural' as const }
          : { rows: rows.length, sha256: keyDigest.sha256, order: 'key' as const };
        let fellBack = false;
        const ok = await hashTableMatching(storage.db, SPEC, streamed, async () => {
          fellBack = true;
          return keyDigest;
        });
        assert.equal(ok.matches, true);
        assert.equal(fellBack, false, 'no key-order re-read was needed');
      } finally {
        await storage.close();
      }
    });
  }

  it('sqlite: an integer beyond 2^53 in an int column fails the read instead of being rounded', async () => {
    const t = testDatabase('sqlite', 'nobig');
    dbs.push(t);
    const storage = await openStorage(t.target, { create: true });
    const spec: TableSpec = {
      name: 'big_probe',
      columns: [
        { name: 'id', type: 'id' },
        { name: 'n', type: 'bigint' },
      ],
      primaryKey: ['id'],
    };
    try {
      await sql.raw(createTableSql(storage.dialect, spec, (s) => `"${s}"`)).execute(storage.db);
      await sql
        .raw(`INSERT INTO big_probe VALUES ('a', 9007199254740991), ('b', 9007199254740993)`)
        .execute(storage.db);
      for (const order of ['key', 'natural'] as const) {
        await assert.rejects(
          (async () => {
            for await (const _ of readTableText(storage.db, spec, { order })) {
            }
          })(),
          /900719925474099[23] is not an integer below 2\^53/,
        );
      }
    } finally {
      await storage.close();
    }
  });

  it('the check falls back to key order when only the order differs, and still finds a changed row', async () => {
    const t = testDatabase('postgres', 'norder2');
    dbs.push(t);
    const storage = await openStorage(t.target, { create: true });
    try {
      await sql.raw(createTableSql(storage.dialect, SPEC, (s) => `"${s}"`)).execute(storage.db);
      await bulkLoadText(storage, SPEC, one(await loaded(rows)), { replace: true });
      const keyDigest = await hashTable(storage.db, SPEC, { order: 'key' });
      // a stream in another order than the table's (rows reversed): same rows, other digest
      const reversed = await loaded([...rows].reverse());
      const other = { rows: rows.length, sha256: sha(reversed), order: 'natural' as const };
      const same = await hashTableMatching(storage.db, SPEC, other, async () => keyDigest);
      assert.equal(same.matches, true, 'same rows in another order match in key order');
      assert.equal(same.sha256, keyDigest.sha256);

      await sql`UPDATE order_probe SET body = 'changed' WHERE id = 'Row-17'`.execute(storage.db);
      const changed = await hashTableMatching(storage.db, SPEC, other, async () => keyDigest);
      assert.equal(changed.matches, false, 'a changed row does not match');
      const fewer = await hashTableMatching(
        storage.db,
        SPEC,
        { ...other, rows: rows.length + 1 },
        async () => keyDigest,
      );
      assert.equal(fewer.matches, false, 'a different row count does not match');
    } finally {
      await storage.close();
    }
  });
});
