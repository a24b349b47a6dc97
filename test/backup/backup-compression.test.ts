import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { readAndVerify } from '../../src/admin/backup/backup-verify.js';
import { openInstanceStorage } from '../../src/admin/instance-context.js';
import { runCli } from '../helpers/cli.js';
import { type TestDatabase, tempDir } from '../helpers/engines.js';
import { isolateRegistry, PASSPHRASE, type SourceInstance, sourceInstance } from './setup.js';

/**
 * Archives are compressed with zstd where the `zstd` program is installed and with gzip otherwise
 * or when the name asks for it (archive-compression.ts); both verify, both catch damage, and
 * without the program a zstd archive is refused with what to install.
 */
const registry = isolateRegistry('bk-zst');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };

describe('backup archive compression', () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-zst');
  let source: SourceInstance;
  let zst: string;
  let gz: string;
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });
  before(async () => {
    source = await sourceInstance('sqlite', 'zst-src', dbs, 10);
    const storage = await openInstanceStorage(source.inst);
    try {
      const common = { storage, instanceName: source.name, config: source.inst.config, key: source.inst.key };
      zst = path.join(work, 'a.tar.zst');
      gz = path.join(work, 'a.tar.gz');
      await writeBackup({ ...common, output: zst, passphrase: PASSPHRASE });
      await writeBackup({ ...common, output: gz, passphrase: PASSPHRASE });
    } finally {
      await storage.close();
    }
  });

  it('the name chooses the compression; both verify with the same table digests', async () => {
    assert.deepEqual([...fs.readFileSync(zst).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.deepEqual([...fs.readFileSync(gz).subarray(0, 2)], [0x1f, 0x8b]);
    const a = await readAndVerify(zst);
    const b = await readAndVerify(gz);
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
    assert.deepEqual(
      a.manifest.tables.map((t) => t.sha256),
      b.manifest.tables.map((t) => t.sha256),
    );
    // a renamed archive still reads: the magic bytes decide, not the name
    const renamed = path.join(work, 'renamed.tar.gz');
    fs.copyFileSync(zst, renamed);
    assert.deepEqual((await readAndVerify(renamed)).problems, []);
  });

  it('a truncated or changed zstd archive is damaged, named as such', async () => {
    const bytes = fs.readFileSync(zst);
    const cut = path.join(work, 'cut.tar.zst');
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(readAndVerify(cut), /damaged .*ends early \(truncated\)/);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 0x01;
    const bad = path.join(work, 'flipped.tar.zst');
    fs.writeFileSync(bad, flipped);
    await assert.rejects(readAndVerify(bad), /damaged/);
  });

  it('without the zstd program: gzip by default, and a zstd archive is refused with what to install', async () => {
    const noZstd = { ...env, CUTTLE_ZSTD: path.join(work, 'no-such-zstd') };
    const backups = path.join(source.home, 'backups');
    const before = new Set(fs.existsSync(backups) ? fs.readdirSync(backups) : []);
    const r = await runCli(['backup', 'create', '--instance', source.name], { env: noZstd });
    assert.equal(r.code, 0, r.all);
    const made = fs.readdirSync(backups).filter((n) => !before.has(n));
    assert.equal(made.length, 1, made.join(', '));
    assert.match(made[0]!, /\.tar\.gz$/);

    const v = await runCli(['backup', 'verify', zst], { env: noZstd });
    assert.equal(v.code, 2, v.all);
    assert.match(v.all, /needs the zstd program[\s\S]*apt-get install zstd/);

    // and with it: the default is zstd
    const z = await runCli(['backup', 'create', '--instance', source.name], { env });
    assert.equal(z.code, 0, z.all);
    assert.ok(fs.readdirSync(backups).some((n) => !before.has(n) && n.endsWith('.tar.zst')));
  });
});
