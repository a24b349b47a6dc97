import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { bulkLoad } from '../../src/storage/bulk-load/bulk-loader.js';
import type { CanonicalValue } from '../../src/storage/codecs.js';
import { createTableSql } from '../../src/storage/dialects/dialect.js';
import {
  renderedPageHolds,
  renderedPageSelect,
  renderedRowSql,
} from '../../src/storage/dialects/sqlite/sqlite-row-text.js';
import type { TableSpec } from '../../src/storage/schema/column-types.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { type ReadOrder, readTableText } from '../../src/storage/table-reader.js';
import { testDatabase } from '../helpers/engines.js';

/**
 * SQLite pages rendered to row text by SQLite (sqlite-row-text.ts) must be byte for byte what the
 * JavaScript encoder writes, page by page, in both read orders; a page it cannot prove is encoded
 * in JavaScript, errors included.
 */
const SPEC: TableSpec = {
  name: 'render_probe',
  columns: [
    { name: 'id', type: 'id' },
    { name: 'seq', type: 'int' },
    { name: 't', type: 'text', nullable: true },
    { name: 'lt', type: 'longtext' },
    { name: 'big', type: 'int64', nullable: true },
    { name: 'b', type: 'bool', nullable: true },
    { name: 'ts', type: 'timestamp', nullable: true },
    { name: 'bl', type: 'blob', nullable: true },
  ],
  primaryKey: ['id', 'seq'],
};

/** Text every page of which renders, except where a row holds one of these (every 37th). */
const NEEDS_ESCAPE = ['tab\there', 'new\nline', 'cr\rlf', 'back\\slash', 'form\ffeed', '\\N', 'v\vb\b'];

function rows(n: number): CanonicalValue[][] {
  const out: CanonicalValue[][] = [];
  for (let i = 0; i < n; i++) {
    const odd = i % 37 === 5 ? NEEDS_ESCAPE[i % NEEDS_ESCAPE.length]! : `plain ${i} Ábc ✓ 🐙`;
    out.push([
      `Key-${String(i % 50).padStart(3, '0')}`,
      i,
      i % 7 === 0 && i % 37 !== 5 ? null : odd,
      `long ${'x'.repeat(i % 90)} ${i}`,
      i % 5 === 0 ? null : i % 2 ? '9223372036854775807' : `-${i}`,
      i % 4 === 0 ? null : i % 3 === 0,
      i % 11 === 0 ? null : new Date(Date.UTC(2024, 1, 29, 23, 59, 59, i % 1000)).toISOString(),
      i % 6 === 0 ? null : Buffer.from(`bytes ${i}`).toString('base64'),
    ]);
  }
  return out;
}

async function readAll(storage: Storage, order: ReadOrder, render: boolean, batchSize: number) {
  const pieces: Buffer[] = [];
  for await (const p of readTableText(storage.db, SPEC, { order, render, batchSize }))
    pieces.push(Buffer.from(p));
  return Buffer.concat(pieces);
}

describe('sqlite: pages rendered by SQLite are the encoder text', () => {
  const db = testDatabase('sqlite', 'render');
  let storage: Storage;
  before(async () => {
    storage = await openStorage(db.target, { create: true });
    await sql.raw(createTableSql(storage.dialect, SPEC, (s) => `"${s}"`)).execute(storage.db);
    async function* batches() {
      yield rows(2500);
    }
    await bulkLoad(storage, SPEC, batches());
  });
  after(async () => {
    await storage?.close();
    await db.drop();
  });

  for (const order of ['natural', 'key'] as const) {
    for (const batchSize of [13, 2000]) {
      it(`${order} order, pages of ${batchSize}: the same bytes as the JavaScript encoder`, async () => {
        const rendered = await readAll(storage, order, true, batchSize);
        const encoded = await readAll(storage, order, false, batchSize);
        assert.equal(rendered.length, encoded.length);
        assert.ok(rendered.equals(encoded), 'identical row text');
      });
    }
  }

  it('a reader whose consumer never waits still lets other callbacks run between pages', async () => {
    // SQLite answers synchronously: without a yield per page the whole table is read in one turn
    // of the event loop, and a move's other sockets (or a server's API, during a scheduled backup)
    // wait for it; seen as stalls of up to 2 s in a move of the reference dataset
    for (const render of [true, false]) {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      let bytes = 0;
      try {
        // 25 pages of 100 rows
        for await (const piece of readTableText(storage.db, SPEC, {
          order: 'natural',
          render,
          batchSize: 100,
        }))
          bytes += piece.length;
      } finally {
        clearInterval(timer);
      }
      assert.ok(bytes > 0);
      assert.ok(ticks >= 5, `render ${render}: a timer ran ${ticks} times while 25 pages were read`);
    }
  });

  it('a table whose every page needs an escape (rendering given up part-way) reads the same bytes', async () => {
    await sql.raw(`SAVEPOINT escapes`).execute(storage.db);
    try {
      await sql.raw(`UPDATE render_probe SET lt = lt || char(9) || 'C:\\temp'`).execute(storage.db);
      for (const order of ['natural', 'key'] as const) {
        const rendered = await readAll(storage, order, true, 13);
        const encoded = await readAll(storage, order, false, 13);
        assert.ok(rendered.equals(encoded), `identical row text in ${order} order`);
        assert.ok(rendered.includes('\\tC:\\\\temp'), 'the escapes are there');
      }
    } finally {
      await sql.raw('ROLLBACK TO escapes').execute(storage.db);
      await sql.raw('RELEASE escapes').execute(storage.db);
    }
  });

  it('renders a clean page and refuses one that needs an escape or holds a foreign value', async () => {
    const page = async (where: string) => {
      const r = await sql<unknown[]>`${sql.raw(
        `/* cuttle:rows-as-arrays */ /* cuttle:integers-as-numbers */ ${renderedPageSelect(false)} (SELECT ${renderedRowSql(
          SPEC,
        )} FROM "render_probe" WHERE ${where} ORDER BY "id", "seq" LIMIT 30)`,
      )}`.execute(storage.db);
      const [text, n, , bad, slashes] = r.rows[0] as [Buffer, number, unknown, number, number];
      return renderedPageHolds(SPEC, text, n, bad, slashes);
    };
    assert.equal(await page('seq BETWEEN 100 AND 140 AND seq % 37 <> 5'), true, 'clean rows render');
    for (const seq of [5, 42, 79, 116, 153, 190, 227]) {
      assert.equal(await page(`seq = ${seq}`), false, `row ${seq} needs an escape`);
    }
    const foreign = [
      `UPDATE render_probe SET t = CAST('abc' AS BLOB) WHERE seq = 101`,
      `UPDATE render_probe SET seq = 1.5 WHERE seq = 102`,
      `UPDATE render_probe SET b = 2 WHERE seq = 103`,
      `UPDATE render_probe SET ts = '2024-02-29 23:59:59' WHERE seq = 104`,
      `UPDATE render_probe SET bl = 'Ynl0ZXM=' WHERE seq = 106`,
      `UPDATE render_probe SET lt = CAST(x'66ff6f' AS TEXT) WHERE seq = 107`,
      `UPDATE render_probe SET seq = 9007199254740993 WHERE seq = 108`,
      `UPDATE render_probe SET seq = 'abc' WHERE seq = 105`,
      `UPDATE render_probe SET ts = CAST('2024-02-29T23:59:59.000Z' AS BLOB) WHERE seq = 109`,
      `UPDATE render_probe SET b = 't' WHERE seq = 100`,
      `UPDATE render_probe SET big = 1.5 WHERE seq = 101`,
    ];
    for (const change of foreign) {
      await sql.raw('SAVEPOINT probe').execute(storage.db);
      await sql.raw(change).execute(storage.db);
      assert.equal(await page('rowid BETWEEN 101 AND 110'), false, change);
      await sql.raw('ROLLBACK TO probe').execute(storage.db);
      await sql.raw('RELEASE probe').execute(storage.db);
    }
  });

  it('a foreign value reads the same through both paths: the encoder text, or the same error', async () => {
    const cases: [string, RegExp | undefined][] = [
      [`UPDATE render_probe SET bl = 'Ynl0ZXM=' WHERE seq = 106`, undefined],
      [`UPDATE render_probe SET lt = CAST(x'66ff6f' AS TEXT) WHERE seq = 107`, undefined],
      [`UPDATE render_probe SET b = 't' WHERE seq = 103`, undefined],
      [`UPDATE render_probe SET t = CAST('abc' AS BLOB) WHERE seq = 101`, /expected text/],
      [`UPDATE render_probe SET ts = '2024-02-29 23:59:59' WHERE seq = 104`, /not a canonical UTC timestamp/],
      [`UPDATE render_probe SET b = 2 WHERE seq = 103`, /not a boolean/],
    ];
    for (const [change, error] of cases) {
      await sql.raw(change).execute(storage.db);
      try {
        for (const order of ['natural', 'key'] as const) {
          if (error) {
            await assert.rejects(readAll(storage, order, true, 50), error, change);
            await assert.rejects(readAll(storage, order, false, 50), error, change);
          } else {
            const [a, b] = [
              await readAll(storage, order, true, 50),
              await readAll(storage, order, false, 50),
            ];
            assert.ok(a.equals(b), `${change}: identical row text in ${order} order`);
          }
        }
      } finally {
        await sql.raw('DELETE FROM render_probe').execute(storage.db);
        async function* batches() {
          yield rows(2500);
        }
        await bulkLoad(storage, SPEC, batches());
      }
    }
  });
});
