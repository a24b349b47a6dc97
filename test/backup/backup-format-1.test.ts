import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readAndVerify } from '../../src/admin/backup/backup-verify.js';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import type { Engine } from '../../src/config/connection-string.js';
import { open } from '../../src/crypto/envelope.js';
import { tableSpec } from '../../src/storage/schema/tables.js';
import { readTable } from '../../src/storage/table-reader.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { isolateRegistry, passphraseFile } from './setup.js';

/**
 * An archive written by Cuttle 0.1.0 (format 1: JSON lines) stays restorable: verified, restored
 * onto each engine, and every table's rows, encoded the way format 1 encoded them, hash exactly
 * to that archive's manifest.
 */
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/backup-format-1.tar.gz');
const EXPECTED = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/backup-format-1.json'), 'utf8'),
) as { sensitive: Record<string, string> };

const registry = isolateRegistry('bk-format1');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };

describe('backup archives of format 1 (Cuttle 0.1.0)', () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-format1');
  const pass = passphraseFile(work);
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });

  it('verify reads it and checks every hash', async () => {
    const v = await runCli(['backup', 'verify', FIXTURE, '--passphrase-file', pass], { env });
    assert.equal(v.code, 0, v.all);
    assert.match(v.stdout, /Result: OK/);
  });

  const engines: Engine[] = (['sqlite', 'postgres', 'mysql'] as Engine[]).filter((e) => ENGINES.includes(e));
  for (const engine of engines) {
    it(`restores onto ${engine}: the same rows as the archive holds, secrets decrypt`, async () => {
      const { manifest } = await readAndVerify(FIXTURE);
      assert.equal(manifest.format, 'cuttle-backup/1');
      const target = testDatabase(engine, `f1-${engine}`);
      dbs.push(target);
      const name = `f1-${engine}`;
      const r = await runCli(
        [
          'backup',
          'restore',
          FIXTURE,
          '--storage-connection-string',
          target.connectionString,
          '--instance',
          name,
          '--home',
          tempDir(`${name}-home`),
          '--passphrase-file',
          pass,
        ],
        { env },
      );
      assert.equal(r.code, 0, r.all);
      assert.match(r.stdout, /counts and hashes match/);

      const inst = loadInstance({ instance: name });
      const storage = await openInstanceStorage(inst);
      try {
        for (const t of manifest.tables) {
          const hash = createHash('sha256');
          let rows = 0;
          for await (const batch of readTable(storage.db, tableSpec(t.name))) {
            for (const values of batch) {
              hash.update(`${JSON.stringify(values)}\n`);
              rows++;
            }
          }
          assert.deepEqual(
            { table: t.name, rows, sha256: hash.digest('hex') },
            { table: t.name, rows: t.rows, sha256: t.sha256 },
          );
        }
        const secrets = await storage.db
          .selectFrom('variables')
          .select(['id', 'value'])
          .where('is_sensitive', '=', true)
          .execute();
        assert.equal(secrets.length, Object.keys(EXPECTED.sensitive).length);
        for (const s of secrets) assert.equal(open(inst.key, s.value!), EXPECTED.sensitive[s.id]);
      } finally {
        await storage.close();
      }
    });
  }
});
