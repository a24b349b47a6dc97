import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import type { Engine } from '../../src/config/connection-string.js';
import { open } from '../../src/crypto/envelope.js';
import { hashAllTables, type TableDigest } from '../../src/storage/table-hash.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { folderDigest } from './fixtures.js';
import {
  archiveText,
  isolateRegistry,
  PASSPHRASE,
  passphraseFile,
  type SourceInstance,
  sourceInstance,
} from './setup.js';

const registry = isolateRegistry('bk-roundtrip');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };

async function digests(name: string): Promise<TableDigest[]> {
  const inst = loadInstance({ instance: name });
  const storage = await openInstanceStorage(inst);
  try {
    return await hashAllTables(storage.db);
  } finally {
    await storage.close();
  }
}

describe('backup round trip SQLite -> PostgreSQL -> MariaDB -> SQLite', () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-roundtrip');
  const pass = passphraseFile(work);
  let source: SourceInstance;
  let original: TableDigest[];
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });
  before(async () => {
    source = await sourceInstance('sqlite', 'rt-src', dbs);
    original = await digests('rt-src');
  });

  const hops: Engine[] = (['postgres', 'mysql', 'sqlite'] as Engine[]).filter((e) => ENGINES.includes(e));
  let from = 'rt-src';
  hops.forEach((engine, i) => {
    it(`hop ${i + 1}: ${i === 0 ? 'sqlite' : hops[i - 1]} -> ${engine}: same hashes, same files, secrets decrypt`, async () => {
      const src = from;
      const archive = path.join(work, `hop${i + 1}.tar.gz`);
      const created = await runCli(
        ['backup', 'create', '--instance', src, '--output', archive, '--passphrase-file', pass],
        { env },
      );
      assert.equal(created.code, 0, created.all);
      assert.ok(fs.existsSync(archive) && !fs.existsSync(`${archive}.partial`));

      // The CLI costs seconds per start on a loaded machine: verify once, on the first hop.
      const verified =
        i === 0 ? await runCli(['backup', 'verify', archive, '--passphrase-file', pass], { env }) : undefined;
      if (verified) {
        assert.equal(verified.code, 0, verified.all);
        assert.match(verified.stdout, /Result: OK/);
        assert.match(verified.stdout, /decrypts the canary/);
      }

      const target = testDatabase(engine, `rt-hop${i + 1}`);
      dbs.push(target);
      const name = `rt-hop${i + 1}`;
      const home = tempDir(`${name}-home`);
      const restored = await runCli(
        [
          'backup',
          'restore',
          archive,
          '--storage-connection-string',
          target.connectionString,
          '--instance',
          name,
          '--home',
          home,
          '--passphrase-file',
          pass,
        ],
        { env },
      );
      assert.equal(restored.code, 0, restored.all);
      assert.match(restored.stdout, /counts and hashes match/);

      assert.deepEqual(await digests(name), original, 'every table hashes as in the original');
      assert.deepEqual(
        folderDigest(path.join(home, 'artifacts')),
        folderDigest(path.join(source.home, 'artifacts')),
      );
      assert.deepEqual(
        folderDigest(path.join(home, 'packages')),
        folderDigest(path.join(source.home, 'packages')),
      );
      assert.equal((fs.statSync(path.join(home, 'master.key')).mode & 0o777).toString(8), '600');

      const inst = loadInstance({ instance: name });
      assert.equal(inst.key.id, source.inst.key.id);
      const storage = await openInstanceStorage(inst);
      try {
        const rows = await storage.db
          .selectFrom('variables')
          .select(['id', 'value'])
          .where('is_sensitive', '=', true)
          .execute();
        assert.equal(rows.length, source.seed.sensitive.size);
        for (const r of rows) assert.equal(open(inst.key, r.value!), source.seed.sensitive.get(r.id));
      } finally {
        await storage.close();
      }

      const text = archiveText(archive);
      const all = created.all + (verified?.all ?? '') + restored.all;
      for (const secret of [source.inst.key.toBase64(), PASSPHRASE, ...source.seed.sensitive.values()]) {
        assert.ok(!text.includes(secret), 'no secret in clear in the archive');
        assert.ok(!all.includes(secret), 'no secret in the output');
      }
      from = name;
    });
  });

  it('--no-database restores config, key and files onto the database that has the data', async () => {
    const archive = path.join(work, 'nodb.tar.gz');
    const created = await runCli(
      [
        'backup',
        'create',
        '--instance',
        'rt-src',
        '--output',
        archive,
        '--passphrase-file',
        pass,
        '--no-database',
      ],
      { env },
    );
    assert.equal(created.code, 0, created.all);
    const home = tempDir('rt-nodb-home');
    const r = await runCli(
      [
        'backup',
        'restore',
        archive,
        '--no-database',
        '--storage-connection-string',
        source.db.connectionString,
        '--instance',
        'rt-nodb',
        '--home',
        home,
        '--passphrase-file',
        pass,
      ],
      { env },
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(await digests('rt-nodb'), original);
    assert.deepEqual(
      folderDigest(path.join(home, 'packages')),
      folderDigest(path.join(source.home, 'packages')),
    );
  });
});
