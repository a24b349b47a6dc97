import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { digestOf, expectedRows, type RoundTrip, roundTrip } from '../helpers/codec-fixture.js';
import { dropTestDatabases } from '../helpers/db-admin.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

/**
 * Every logical type through every engine: the canonical rows read back are exactly the rows
 * written, in the same (bytewise) key order, so the content hash is the same on all engines.
 * codec-timezone.test.ts runs the same round trip with TZ=America/New_York.
 */
describe('codec round trip on every engine', () => {
  const dbs: TestDatabase[] = [];
  const results = new Map<string, RoundTrip>();
  const expected = expectedRows();
  after(async () => {
    await dropTestDatabases(dbs);
  });

  for (const engine of ENGINES) {
    it(`${engine}: every type comes back canonical and byte-exact`, async () => {
      const t = testDatabase(engine, 'codec');
      dbs.push(t);
      const r = await roundTrip(t);
      results.set(engine, r);
      assert.equal(r.rows.length, expected.length);
      for (let i = 0; i < expected.length; i++) {
        assert.deepEqual(r.rows[i], expected[i], `row ${String(expected[i]![0])}`);
      }
      assert.deepEqual(r.pagedRows, expected, 'keyset pagination gives the same rows in the same order');
      assert.deepEqual(r.dates, [
        ['builder', '2024-02-29T12:34:56.789Z'],
        ['raw', '2024-02-29T12:34:56.789Z'],
      ]);
      assert.equal(r.digest, digestOf(expected));
    });
  }

  it('the content hash is identical on all engines', () => {
    assert.equal(results.size, ENGINES.length, 'every engine ran');
    const digests = new Set([...results.values()].map((r) => r.digest));
    assert.equal(
      digests.size,
      1,
      JSON.stringify(Object.fromEntries([...results].map(([e, r]) => [e, r.digest]))),
    );
  });
});
