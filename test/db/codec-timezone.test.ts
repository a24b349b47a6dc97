// Set before any Date is made: Node re-reads TZ when process.env.TZ is assigned.
process.env.TZ = 'America/New_York';

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { digestOf, expectedRows, roundTrip } from '../helpers/codec-fixture.js';
import { dropTestDatabases } from '../helpers/db-admin.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';

/**
 * The codec round trip in a process whose local time zone is not UTC. Timestamps are canonical
 * UTC text on every engine, so nothing may shift: the digest must equal the one computed from the
 * fixture (which codec-roundtrip.test.ts checks under the default zone), and Dates bound as
 * parameters must be stored as UTC text, not as local time.
 */
describe('codec round trip with TZ=America/New_York', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    await dropTestDatabases(dbs);
  });

  it('runs in a non-UTC zone', () => {
    assert.equal(new Date(Date.UTC(2024, 0, 15)).getTimezoneOffset(), 300);
    assert.equal(new Date(Date.UTC(2024, 6, 15)).getTimezoneOffset(), 240);
  });

  const expected = digestOf(expectedRows());
  for (const engine of ENGINES) {
    it(`${engine}: same canonical rows and hash as in UTC`, async () => {
      const t = testDatabase(engine, 'codectz');
      dbs.push(t);
      const r = await roundTrip(t);
      assert.equal(r.digest, expected);
      assert.deepEqual(r.dates, [
        ['builder', '2024-02-29T12:34:56.789Z'],
        ['raw', '2024-02-29T12:34:56.789Z'],
      ]);
    });
  }
});
