import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ConnectionTarget } from '../../src/config/connection-string.js';
import { CuttleError } from '../../src/lib/errors.js';
import { openStorage } from '../../src/storage/storage.js';
import { ENGINES, tempDir, testDatabase } from '../helpers/engines.js';

/** Opens `target` and returns the typed error the open failed with. */
async function failure(target: ConnectionTarget): Promise<CuttleError> {
  try {
    const s = await openStorage(target);
    await s.close();
  } catch (err) {
    assert.ok(err instanceof CuttleError, `a typed error, not ${String(err)}`);
    return err;
  }
  assert.fail('the open succeeded');
}

/**
 * Each engine's connection failures (dialects/<engine>/<engine>-connection-errors.ts and the
 * shared server part), caused for real, carry their stable code and kind.
 */
describe('connection errors by engine', () => {
  if (ENGINES.includes('sqlite')) {
    it('sqlite: a missing file is DATABASE_MISSING, a file that is not a database DATABASE_FILE_INVALID', async () => {
      const dir = tempDir('connerr');
      const missing = await failure({ engine: 'sqlite', file: path.join(dir, 'none.db') });
      assert.equal(missing.code, 'DATABASE_MISSING');
      assert.equal(missing.kind, 'precondition');
      const junk = path.join(dir, 'junk.db');
      fs.writeFileSync(junk, Buffer.alloc(4096, 0x41));
      const invalid = await failure({ engine: 'sqlite', file: junk });
      assert.equal(invalid.code, 'DATABASE_FILE_INVALID');
      assert.equal(invalid.kind, 'precondition');
    });
  }

  for (const engine of ENGINES.filter((e) => e !== 'sqlite')) {
    it(`${engine}: a closed port and an unknown host are DATABASE_UNREACHABLE, a missing database DATABASE_MISSING`, async () => {
      const t = testDatabase(engine, 'connerr');
      if (t.target.engine === 'sqlite') return;
      const refused = await failure({ ...t.target, port: 1 });
      assert.equal(refused.code, 'DATABASE_UNREACHABLE');
      assert.equal(refused.kind, 'precondition');
      const unknown = await failure({ ...t.target, host: 'no-such-host.invalid' });
      assert.equal(unknown.code, 'DATABASE_UNREACHABLE');
      // nothing was created: testDatabase only names a database
      const missing = await failure(t.target);
      assert.equal(missing.code, 'DATABASE_MISSING');
      assert.match(missing.message, /does not exist/);
    });
  }

  if (ENGINES.includes('mysql')) {
    it('mysql: an unknown user is DATABASE_LOGIN_FAILED, and the password is not in the message', async () => {
      const t = testDatabase('mysql', 'connerr', { user: 'cuttle_nobody', password: 'not-the-password-41' });
      const login = await failure(t.target);
      assert.equal(login.code, 'DATABASE_LOGIN_FAILED');
      assert.ok(!login.message.includes('not-the-password-41'));
    });
  }
});
