import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { restoreBackup } from '../../src/admin/backup/backup-restore.js';
import { readAndVerify } from '../../src/admin/backup/backup-verify.js';
import { loadInstance, openCheckedStorage, openInstanceStorage } from '../../src/admin/instance-context.js';
import { writeKeyFile } from '../../src/crypto/key-source.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { hashAllTables, type TableDigest } from '../../src/storage/table-hash.js';
import { runCli } from '../helpers/cli.js';
import { assertFailedWith } from '../helpers/cli-checks.js';
import { ENGINES, PG_HOST, PG_PORT, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import {
  isolateRegistry,
  PASSPHRASE,
  passphraseFile,
  repack,
  type SourceInstance,
  sourceInstance,
  tablesIn,
} from './setup.js';

const registry = isolateRegistry('bk-bad');
const env = { CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };
const engine = ENGINES.includes('postgres') ? 'postgres' : ENGINES[0]!;

async function instanceDigests(name: string): Promise<TableDigest[]> {
  const storage = await openInstanceStorage(loadInstance({ instance: name }));
  try {
    return await hashAllTables(storage.db);
  } finally {
    await storage.close();
  }
}

describe('backup: bad input is refused with a clear message and the target untouched', () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-bad');
  passphraseFile(work);
  let source: SourceInstance;
  let occupied: SourceInstance;
  let occupiedBefore: TableDigest[];
  let good: string;
  let noBundle: string;
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });
  before(async () => {
    source = await sourceInstance('sqlite', 'bad-src', dbs, 20);
    occupied = await sourceInstance(engine, 'bad-occupied', dbs, 5);
    occupiedBefore = await instanceDigests('bad-occupied');
    const storage = await openInstanceStorage(source.inst);
    try {
      good = path.join(work, 'good.tar.gz');
      noBundle = path.join(work, 'nobundle.tar.gz');
      const common = { storage, instanceName: source.name, config: source.inst.config, key: source.inst.key };
      await writeBackup({ ...common, output: good, passphrase: PASSPHRASE });
      await writeBackup({ ...common, output: noBundle });
    } finally {
      await storage.close();
    }
  });

  const fresh = (label: string) => {
    const t = testDatabase(engine, label);
    dbs.push(t);
    return t;
  };
  const restore = (
    archive: string,
    t: TestDatabase,
    extra: Partial<Parameters<typeof restoreBackup>[0]> = {},
  ) => restoreBackup({ archive, target: t.target, key: { passphrase: PASSPHRASE }, ...extra });

  it('truncated archive', async () => {
    const bytes = fs.readFileSync(good);
    const cut = path.join(work, 'truncated.tar.gz');
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const t = fresh('trunc');
    await assert.rejects(restore(cut, t), /damaged .*ends early \(truncated\)/);
    assert.deepEqual(await tablesIn(t), []);
  });

  it('one flipped byte in the compressed file', async () => {
    const bytes = Buffer.from(fs.readFileSync(good));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    const bad = path.join(work, 'flipped-gz.tar.gz');
    fs.writeFileSync(bad, bytes);
    await assert.rejects(restore(bad, fresh('flipgz')), /damaged/);
  });

  it('one flipped byte inside a table stream: verify exits 2 naming the table, restore refuses', async () => {
    const bad = path.join(work, 'flipped-table.tar.gz');
    await repack(good, bad, (name, body) => {
      if (name !== 'tables/variables/000001.tsv') return body;
      const b = Buffer.from(body);
      b[100] = b[100] === 0x41 ? 0x42 : 0x41;
      return b;
    });
    const v = await runCli(['backup', 'verify', bad], { env });
    assert.equal(v.code, 2, v.all);
    assert.match(v.stdout, /MISMATCH table variables sha256/);
    const t = fresh('fliptable');
    await assert.rejects(restore(bad, t), (e: Error & { details?: string[] }) => {
      assert.match(e.message, /fails verification; nothing was restored/);
      assert.ok(e.details?.some((d) => d.startsWith('table variables sha256')));
      return true;
    });
    assert.deepEqual(await tablesIn(t), []);
  });

  it('an intact archive of a newer schema: verify says this Cuttle cannot restore it (exit 2), restore refuses', async () => {
    const newer = path.join(work, 'newer-schema.tar.gz');
    // A consistent forgery: header and manifest both one schema ahead, the header's digest updated.
    let headerEntry: { size: number; sha256: string } | undefined;
    await repack(good, newer, (name, body) => {
      if (name !== 'cuttle-backup.json' && name !== 'manifest.json') return body;
      const doc = JSON.parse(body.toString('utf8'));
      doc.schemaVersion += 1;
      if (name === 'manifest.json') {
        doc.cuttleVersion = '99.0.0';
        for (const e of doc.entries) if (e.name === 'cuttle-backup.json') Object.assign(e, headerEntry);
      }
      const out = Buffer.from(JSON.stringify(doc));
      if (name === 'cuttle-backup.json')
        headerEntry = { size: out.length, sha256: createHash('sha256').update(out).digest('hex') };
      return out;
    });
    const v = await runCli(['backup', 'verify', newer], { env });
    assertFailedWith(v, 2, 'ARCHIVE_UNSUPPORTED', 'verify of a newer archive');
    assert.match(v.stdout, /Restorable\s+NO: newer than this Cuttle/);
    assert.match(
      v.stdout,
      /PROBLEM This Cuttle cannot restore it: the archive has schema version \d+, newer than this Cuttle knows/,
    );
    assert.doesNotMatch(v.stdout, /MISMATCH/, 'nothing in it is damaged');
    assert.match(v.stderr, /Cuttle 99\.0\.0 or newer/);
    const json = await runCli(['backup', 'verify', newer, '--format', 'json'], { env });
    assert.equal(json.code, 2);
    const doc = JSON.parse(json.stdout) as { ok: boolean; restorable: boolean; code: string };
    assert.deepEqual([doc.ok, doc.restorable, doc.code], [false, false, 'ARCHIVE_UNSUPPORTED']);
    const t = fresh('newer');
    await assert.rejects(
      restore(newer, t),
      (e: Error & { code?: string }) => e.code === 'ARCHIVE_UNSUPPORTED',
    );
    assert.deepEqual(await tablesIn(t), []);
  });

  it('wrong passphrase', async () => {
    const t = fresh('wrongpass');
    await assert.rejects(
      restore(good, t, { key: { passphrase: 'not the passphrase' } }),
      /passphrase does not open the key bundle/,
    );
    assert.deepEqual(await tablesIn(t), []);
  });

  it('no key supplied for an archive without a key bundle; a wrong key file', async () => {
    const t = fresh('nokey');
    await assert.rejects(
      restore(noBundle, t, { key: {} }),
      /No master key supplied for an archive without a key bundle/,
    );
    const wrong = path.join(work, 'wrong.key');
    writeKeyFile(wrong, MasterKey.generate());
    await assert.rejects(
      restore(noBundle, t, { key: { masterKeyFile: wrong } }),
      /master key does not match the backup archive/,
    );
    assert.deepEqual(await tablesIn(t), []);
  });

  it('non-empty target without --overwrite', async () => {
    await assert.rejects(restore(good, occupied.db), /is not empty; nothing was restored[\s\S]*/);
    assert.deepEqual(await instanceDigests('bad-occupied'), occupiedBefore);
  });

  it('archive from a newer schema', async () => {
    const newer = path.join(work, 'newer.tar.gz');
    await repack(good, newer, (name, body) => {
      if (name !== 'cuttle-backup.json' && name !== 'manifest.json') return body;
      const j = JSON.parse(body.toString('utf8'));
      j.schemaVersion = 99;
      return Buffer.from(JSON.stringify(j));
    });
    const t = fresh('newer');
    await assert.rejects(restore(newer, t), /schema version 99, newer than this Cuttle knows \(\d+\)/);
    assert.deepEqual(await tablesIn(t), []);
  });

  it('target user without privileges (PostgreSQL)', { skip: !ENGINES.includes('postgres') }, async () => {
    const role = `cuttle_t_nopriv_${process.pid}`;
    const admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: 'postgres' });
    await admin.connect();
    const t = testDatabase('postgres', 'nopriv', { user: role });
    dbs.push(t);
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      const dbName = t.target.engine === 'postgres' ? t.target.database : '';
      await admin.query(`CREATE DATABASE ${dbName}`);
      await assert.rejects(restore(good, t), /cannot restore into .*privileges are missing/);
      assert.deepEqual(await tablesIn({ ...t, target: { ...t.target, user: 'postgres' } as never }), []);
    } finally {
      await t.drop().catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await admin.end();
    }
  });

  it('read-only output folder and a full disk: clear message, no file left behind', async () => {
    const storage = await openInstanceStorage(source.inst);
    const mounted: string[] = [];
    try {
      const ro = tempDir('bk-ro');
      const full = tempDir('bk-full');
      if (process.getuid?.() === 0) {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
        mounted.push(ro);
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', full]);
        mounted.push(full);
      } else fs.chmodSync(ro, 0o555);
      const common = { storage, instanceName: source.name, config: source.inst.config, key: source.inst.key };
      await assert.rejects(
        writeBackup({ ...common, output: path.join(ro, 'b.tar.gz') }),
        (e: Error & { code?: string }) =>
          // refused before the snapshot, by the path check (root ignores chmod: then the open's own)
          e.code === 'PATH_NOT_WRITABLE' && /is not writable/.test(e.message),
      );
      assert.deepEqual(fs.readdirSync(ro), []);
      if (mounted.includes(full)) {
        await assert.rejects(
          writeBackup({ ...common, output: path.join(full, 'b.tar.gz') }),
          /No space left on the device/,
        );
        assert.deepEqual(fs.readdirSync(full), []);
      }
    } finally {
      await storage.close();
      for (const m of mounted) execFileSync('umount', [m]);
    }
  });

  it('--overwrite: a restore that fails on the target puts the restore point back', async () => {
    // A well-formed archive whose data the target refuses: a duplicated primary key in events.
    const dup = path.join(work, 'dup.tar.gz');
    const contents = await readAndVerify(good);
    let line = '';
    await repack(good, dup, (name, body) => {
      if (name === 'tables/events/000001.tsv') {
        line = body.toString('utf8').split('\n')[0]!;
        return Buffer.concat([body, Buffer.from(`${line}\n`)]);
      }
      if (name === 'manifest.json') {
        const m = contents.manifest;
        const ev = m.tables.find((t) => t.name === 'events')!;
        return Buffer.from(
          JSON.stringify({
            ...m,
            tables: m.tables.map((t) => (t === ev ? { ...ev, rows: ev.rows + 1, sha256: 'x' } : t)),
          }),
        );
      }
      return body;
    });
    // Fix the manifest hash to the forged content so the archive verifies.
    const forged = await readAndVerify(dup);
    const wanted = forged.checks.find((c) => c.entry === 'table events sha256')!.found;
    const dup2 = path.join(work, 'dup2.tar.gz');
    await repack(dup, dup2, (name, body) => {
      if (name !== 'manifest.json') return body;
      const m = JSON.parse(body.toString('utf8'));
      for (const t of m.tables) if (t.name === 'events') t.sha256 = wanted;
      return Buffer.from(JSON.stringify(m));
    });
    assert.deepEqual((await readAndVerify(dup2)).problems, []);
    await assert.rejects(restore(dup2, occupied.db, { overwrite: true, key: { passphrase: PASSPHRASE } }));
    assert.deepEqual(await instanceDigests('bad-occupied'), occupiedBefore, 'the target is as it was');
    const s = await openCheckedStorage(occupied.db.target, occupied.inst.key);
    await s.close();
  });
});
