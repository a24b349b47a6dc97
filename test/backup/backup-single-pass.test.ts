import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveReader } from '../../src/admin/backup/archive-reader.js';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { type RestoreInput, restoreBackup } from '../../src/admin/backup/backup-restore.js';
import { openInstanceStorage } from '../../src/admin/instance-context.js';
import type { ProgressReporter } from '../../src/lib/progress.js';
import { openStorage } from '../../src/storage/storage.js';
import { hashAllTables, type TableDigest } from '../../src/storage/table-hash.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import {
  isolateRegistry,
  PASSPHRASE,
  repack,
  type SourceInstance,
  sourceInstance,
  tablesIn,
} from './setup.js';

/**
 * A restore of a keyFirst archive into an empty server database reads the archive once: the key is
 * proved from the first entries, everything else is checked as it loads, and a mismatch at the end
 * leaves the target empty again with no file behind (backup-restore.ts, restoreInOnePass).
 */
isolateRegistry('bk-one');
const engine = ENGINES.includes('postgres') ? 'postgres' : ENGINES.includes('mysql') ? 'mysql' : undefined;

function stepsOf(): { progress: ProgressReporter; steps: Set<string> } {
  const steps = new Set<string>();
  return { steps, progress: { update: (u) => steps.add(u.step), note() {} } };
}

async function digests(t: TestDatabase): Promise<TableDigest[]> {
  const s = await openStorage(t.target);
  try {
    return await hashAllTables(s.db);
  } finally {
    await s.close();
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('backup restore in one pass', { skip: !engine }, () => {
  const dbs: TestDatabase[] = [];
  const work = tempDir('bk-one');
  let source: SourceInstance;
  let sourceDigests: TableDigest[];
  let good: string;
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });
  before(async () => {
    source = await sourceInstance('sqlite', 'one-src', dbs, 30);
    const storage = await openInstanceStorage(source.inst);
    try {
      sourceDigests = await hashAllTables(storage.db);
      good = path.join(work, 'good.tar.zst');
      await writeBackup({
        storage,
        instanceName: source.name,
        config: source.inst.config,
        key: source.inst.key,
        output: good,
        passphrase: PASSPHRASE,
      });
    } finally {
      await storage.close();
    }
  });
  const fresh = (label: string) => {
    const t = testDatabase(engine!, label);
    dbs.push(t);
    return t;
  };
  const restore = (archive: string, t: TestDatabase, extra: Partial<RestoreInput> = {}) =>
    restoreBackup({ archive, target: t.target, key: { passphrase: PASSPHRASE }, ...extra });

  it('writes the header, key bundle and config first, then instance_metadata (with the canary)', async () => {
    const reader = new ArchiveReader(good);
    const names: string[] = [];
    let header: Record<string, unknown> | undefined;
    try {
      for (let e = await reader.next(); e; e = await reader.next()) {
        names.push(e.name);
        if (e.name === 'cuttle-backup.json') header = JSON.parse((await reader.readBody()).toString('utf8'));
      }
    } finally {
      reader.close();
    }
    assert.deepEqual(names.slice(0, 3), ['cuttle-backup.json', 'key-bundle.json', 'config.json']);
    assert.match(names[3]!, /^tables\/instance_metadata\//);
    assert.equal(header?.keyFirst, true);
    assert.deepEqual(header?.contents, { database: true, files: true, keyBundle: true });
    const counts = header?.rowCounts as Record<string, number>;
    for (const d of sourceDigests) assert.equal(counts[d.table], d.rows, `row count of ${d.table}`);
  });

  it('an empty target: no verify pass, same tables, files and instance', async () => {
    const t = fresh('one-ok');
    const home = path.join(work, 'one-ok-home');
    const { progress, steps } = stepsOf();
    const r = await restore(good, t, { instance: 'one-ok', home, progress });
    assert.ok(steps.has('Load'));
    assert.ok(!steps.has('Verify'), 'the archive is read once');
    assert.equal(r.restorePoint, 'not-needed');
    assert.deepEqual(await digests(t), sourceDigests);
    assert.deepEqual(
      filesUnder(path.join(home, 'artifacts')).sort(),
      filesUnder(path.join(source.home, 'artifacts')).sort(),
    );
    assert.ok(filesUnder(path.join(home, 'artifacts')).length > 0);
    assert.ok(fs.existsSync(r.instance!.configFile));

    // the same target again with --overwrite: not empty, so the archive is verified before a
    // restore point is taken (the two-pass path)
    const again = stepsOf();
    const r2 = await restore(good, t, { overwrite: true, progress: again.progress });
    assert.ok(again.steps.has('Verify'));
    assert.equal(r2.restorePoint, 'taken');
    assert.deepEqual(await digests(t), sourceDigests);
  });

  it('a changed file entry: refused at the end, the database it created dropped again, no file left', async () => {
    const bad = path.join(work, 'changed-file.tar.zst');
    let changed = '';
    await repack(good, bad, (name, body) => {
      if (changed || !name.startsWith('files/artifacts/') || body.length === 0) return body;
      changed = name;
      const b = Buffer.from(body);
      b[0] = b[0]! ^ 0x01;
      return b;
    });
    assert.ok(changed, 'the archive has an artifact file');
    const t = fresh('one-badfile');
    const home = path.join(work, 'one-badfile-home');
    await assert.rejects(
      restore(bad, t, { instance: 'one-badfile', home }),
      (e: Error & { details?: string[] }) => {
        assert.match(e.message, /fails verification; nothing was restored/);
        assert.ok(
          e.details?.some((d) => d.startsWith(`file ${changed.slice('files/'.length)}`)),
          String(e.details),
        );
        return true;
      },
    );
    // the restore created the database, so it ends as it began: not there
    await assert.rejects(openStorage(t.target), /does not exist/);
    assert.deepEqual(filesUnder(home), [], 'no file, temporary or not, in the new home');

    // a database that was there (empty) before stays, emptied again
    const existing = fresh('one-badexisting');
    await (await openStorage(existing.target, { create: true })).close();
    await assert.rejects(restore(bad, existing), /fails verification; nothing was restored/);
    assert.deepEqual(await tablesIn(existing), []);
    await (await openStorage(existing.target)).close();
  });

  it('an archive of Cuttle 0.2.0 (no keyFirst) is verified whole first', async () => {
    const old = path.join(work, 'old-layout.tar.zst');
    await repack(good, old, (name, body) => {
      if (name !== 'cuttle-backup.json') return body;
      const h = JSON.parse(body.toString('utf8'));
      delete h.keyFirst;
      delete h.rowCounts;
      return Buffer.from(JSON.stringify(h));
    });
    const t = fresh('one-old');
    const { progress, steps } = stepsOf();
    await restore(old, t, { progress });
    assert.ok(steps.has('Verify'));
    assert.deepEqual(await digests(t), sourceDigests);
  });
});
