import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { generateDataset, scaled } from '../../bench/dataset-generator.js';
import { writeBackup } from '../../src/admin/backup/backup-create.js';
import { RESTORE_MARKER } from '../../src/admin/backup/restore-marker.js';
import { createInstance } from '../../src/admin/create-instance.js';
import { loadInstance, openCheckedStorage, openInstanceStorage } from '../../src/admin/instance-context.js';
import { missingIndexes } from '../../src/storage/bulk-load/deferred-indexes.js';
import { getMeta } from '../../src/storage/repositories/metadata-repository.js';
import { TABLES } from '../../src/storage/schema/tables.js';
import { openStorage } from '../../src/storage/storage.js';
import { hashAllTables } from '../../src/storage/table-hash.js';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { assertFailedWith } from '../helpers/cli-checks.js';
import { ENGINES, type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { isolateRegistry, PASSPHRASE, passphraseFile } from './setup.js';

const registry = isolateRegistry('bk-kill');
const env = { ...process.env, CUTTLE_REGISTRY: registry, CUTTLE_MASTER_KEY: undefined };
const engine = ENGINES.includes('postgres') ? 'postgres' : ENGINES[0]!;

/**
 * True while the restore into `t` is loading a big table with its indexes dropped (marker set,
 * some index missing): the state a killed run leaves for the next one to heal.
 */
async function loadingWithoutIndexes(t: TestDatabase): Promise<boolean> {
  const s = await openStorage(t.target).catch(() => undefined);
  if (!s) return false;
  try {
    if (!(await getMeta(s.db, RESTORE_MARKER).catch(() => undefined))) return false;
    for (const table of TABLES) if ((await missingIndexes(s, table)).length) return true;
    return false;
  } catch {
    return false; // the restore's own DDL got in the way of this look: look again
  } finally {
    await s.close();
  }
}

async function markerOf(t: TestDatabase): Promise<string | undefined> {
  const s = await openStorage(t.target).catch(() => undefined);
  if (!s) return undefined;
  try {
    return await getMeta(s.db, RESTORE_MARKER).catch(() => undefined);
  } finally {
    await s.close();
  }
}

describe('backup restore killed with SIGKILL', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const d of dbs) await d.drop().catch(() => {});
  });

  it('leaves the target recognisably incomplete, and a second run with --overwrite completes', async () => {
    const work = tempDir('bk-kill');
    const pass = passphraseFile(work);
    const src = testDatabase('sqlite', 'killsrc');
    dbs.push(src);
    await createInstance({
      name: 'kill-src',
      home: tempDir('kill-src-home'),
      connectionString: src.connectionString,
    });
    const inst = loadInstance({ instance: 'kill-src' });
    const archive = path.join(work, 'big.tar.gz');
    const storage = await openInstanceStorage(inst);
    let original: Awaited<ReturnType<typeof hashAllTables>>;
    try {
      await generateDataset(storage, scaled(0.025), { key: inst.key });
      original = await hashAllTables(storage.db);
      await writeBackup({
        storage,
        output: archive,
        instanceName: 'kill-src',
        key: inst.key,
        passphrase: PASSPHRASE,
      });
    } finally {
      await storage.close();
    }

    const target = testDatabase(engine, 'killtgt');
    dbs.push(target);
    const args = [
      'backup',
      'restore',
      archive,
      '--storage-connection-string',
      target.connectionString,
      '--passphrase-file',
      pass,
    ];
    // big tables load without their indexes (deferred-indexes.ts) in the run that gets killed
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      env: { ...env, CUTTLE_DEFER_INDEXES_FROM_ROWS: '1000' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(
      'the restore to load a table without its indexes',
      async () => {
        if (child.exitCode !== null) throw new Error(`the restore ended (${child.exitCode}) before the kill`);
        return loadingWithoutIndexes(target);
      },
      { intervalMs: 10 },
    );
    const killed = child.kill('SIGKILL');
    assert.ok(killed, 'the restore was killed while loading');
    assert.equal(await exited, null);
    assert.ok(await markerOf(target), 'the marker stays: the target is recognisably incomplete');
    await assert.rejects(openCheckedStorage(target.target, inst.key), (e: Error & { hints: string[] }) => {
      assert.match(e.message, /holds an incomplete restore/);
      assert.match(e.hints.join('\n'), /--overwrite/);
      return true;
    });

    // `database check` does not call it healthy: the unfinished restore, its code and the command that completes it.
    const check = ['database', 'check', '--storage-connection-string', target.connectionString];
    const half = await runCli(check, { env: { CUTTLE_REGISTRY: registry } });
    assertFailedWith(half, 2, 'RESTORE_UNFINISHED', 'database check after the kill');
    assert.match(half.stdout, /Unfinished restore\s+yes: /);
    assert.match(half.stdout, /Result: NOT OK/);
    assert.match(
      half.stderr,
      new RegExp(`cuttle backup restore ${archive.replace(/[.]/g, '\\.')} .*--overwrite`),
    );
    const halfJson = await runCli([...check, '--format', 'json'], { env: { CUTTLE_REGISTRY: registry } });
    assert.equal(halfJson.code, 2);
    assert.deepEqual(
      (JSON.parse(halfJson.stdout) as { problems: { code: string }[] }).problems.map((p) => p.code),
      ['RESTORE_UNFINISHED'],
    );

    const again = await runCli(args, { env: { CUTTLE_REGISTRY: registry } });
    assert.equal(again.code, 2, 'without --overwrite the incomplete target is refused');
    assert.match(again.stderr, /not empty/);
    const done = await runCli([...args, '--overwrite'], { env: { CUTTLE_REGISTRY: registry } });
    assert.equal(done.code, 0, done.all);
    assert.match(done.stdout, /skipped-incomplete-target/);
    const healed = await runCli(check, { env: { CUTTLE_REGISTRY: registry } });
    assert.equal(healed.code, 0, healed.all);
    assert.match(healed.stdout, /Unfinished restore\s+no/);
    assert.match(healed.stdout, /Result: OK/);
    const s = await openCheckedStorage(target.target, inst.key);
    try {
      assert.deepEqual(await hashAllTables(s.db), original!);
      for (const t of TABLES) assert.deepEqual(await missingIndexes(s, t), [], `${t.name} has every index`);
    } finally {
      await s.close();
    }
  });
});
