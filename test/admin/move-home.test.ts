import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { moveFolders } from '../../src/admin/home/move-folders.js';
import { HOME_JOURNAL, moveHome } from '../../src/admin/home/move-home.js';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import { getInstance } from '../../src/config/instance-registry.js';
import type { CuttleError } from '../../src/lib/errors.js';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { ENGINES, tempDir } from '../helpers/engines.js';
import { faultInjector } from '../helpers/fault-injector.js';
import { waitFor } from '../helpers/wait-for.js';
import { type AdminInstance, isolateRegistry, makeInstance } from './admin-fixtures.js';

isolateRegistry('move-home');

function plantFiles(home: string, count: number, size: number): Record<string, string> {
  const sums: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const rel = i % 2 ? `artifacts/Spaces-1/ServerTasks-${i}/log-${i}.txt` : `packages/Spaces-1/pkg.${i}.zip`;
    const buf = randomBytes(size + i);
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), buf);
    sums[rel] = createHash('sha256').update(buf).digest('hex');
  }
  fs.writeFileSync(path.join(home, 'logs', 'server.log'), 'log line\n');
  return sums;
}

function assertFiles(home: string, sums: Record<string, string>) {
  for (const [rel, sum] of Object.entries(sums)) {
    assert.equal(
      createHash('sha256')
        .update(fs.readFileSync(path.join(home, rel)))
        .digest('hex'),
      sum,
      rel,
    );
  }
}

async function opens(name: string): Promise<string> {
  const inst = loadInstance({ instance: name });
  const s = await openInstanceStorage(inst);
  await s.close();
  return inst.config.home;
}

describe('move the home directory', () => {
  const cleanup: AdminInstance[] = [];
  after(async () => {
    for (const c of cleanup) await c.db.drop().catch(() => {});
  });
  const make = async (label: string, engine: (typeof ENGINES)[number] = 'sqlite') => {
    const ti = await makeInstance(engine, label);
    cleanup.push(ti);
    return ti;
  };

  it('copies, verifies, switches config and registry, then removes the old home (SQLite database included)', async () => {
    const ti = await make('mh');
    const sums = plantFiles(ti.home, 6, 50_000);
    const to = path.join(tempDir('mh-new'), 'moved home');
    const r = await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
    assert.equal(r.oldHome, 'removed');
    assert.equal(r.registryUpdated, true);
    assert.equal(r.database?.to, path.join(to, 'cuttle.db'));
    assert.ok(!fs.existsSync(ti.home), 'old home removed');
    assert.equal(getInstance(ti.name).configFile, path.join(to, 'cuttle.config.json'));
    assert.equal(await opens(ti.name), to);
    const cfg = loadInstance({ instance: ti.name }).config;
    assert.equal(cfg.storage.connectionString, `sqlite:${path.join(to, 'cuttle.db')}`);
    assert.equal(cfg.history.at(-1)?.setting, 'home');
    assertFiles(to, sums);
    assert.equal(fs.statSync(path.join(to, 'master.key')).mode & 0o777, 0o600);
    assert.ok(!fs.existsSync(path.join(to, HOME_JOURNAL)));
  });

  it('--keep-old keeps the old copy with its config renamed', async () => {
    const ti = await make('mhkeep');
    const sums = plantFiles(ti.home, 2, 1000);
    const to = path.join(tempDir('mhkeep-new'), 'home');
    const r = await moveHome(loadInstance({ instance: ti.name }), { newHome: to, keepOld: true });
    assert.equal(r.oldHome, 'kept');
    assertFiles(ti.home, sums);
    assert.ok(fs.existsSync(path.join(ti.home, 'cuttle.config.json.moved')));
    assert.ok(!fs.existsSync(path.join(ti.home, 'cuttle.config.json')));
    assert.equal(await opens(ti.name), to);
  });

  it('killed during the copy: the instance still opens from the old home; a second run completes', async () => {
    const ti = await make('mhkill');
    const sums = plantFiles(ti.home, 6, 20_000);
    const to = path.join(tempDir('mhkill-new'), 'home');
    const r = await runCli(['configure', '--instance', ti.name, '--home', to], {
      env: { CUTTLE_FAULT: 'home:kill-after-files=3' },
    });
    assert.notEqual(r.code, 0);
    assert.ok(fs.existsSync(path.join(to, HOME_JOURNAL)), 'the journal of the killed copy');
    assert.equal(await opens(ti.name), ti.home);
    assertFiles(ti.home, sums);
    const done = await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
    assert.equal(done.oldHome, 'removed');
    assert.equal(await opens(ti.name), to);
    assertFiles(to, sums);
  });

  it('a real SIGKILL part-way leaves a working instance; a second run completes', async () => {
    const ti = await make('mhsig');
    const sums = plantFiles(ti.home, 24, 400_000);
    const to = path.join(tempDir('mhsig-new'), 'home');
    const child = spawn(process.execPath, [...CLI_ARGS, 'configure', '--instance', ti.name, '--home', to], {
      stdio: 'ignore',
      env: process.env,
    });
    const exited = new Promise((res) => child.on('exit', res));
    // Killed as soon as the copy has begun (its journal exists), or the move already ended.
    await waitFor(
      'the home copy to begin',
      () => fs.existsSync(path.join(to, HOME_JOURNAL)) || child.exitCode !== null,
      { intervalMs: 2 },
    );
    child.kill('SIGKILL');
    await exited;
    const where = await opens(ti.name);
    assert.ok(where === ti.home || where === to);
    if (where === ti.home) {
      assertFiles(ti.home, sums);
      await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
    } else if (fs.existsSync(path.join(to, HOME_JOURNAL))) {
      await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
    }
    assert.equal(await opens(ti.name), to);
    assertFiles(to, sums);
    assert.ok(!fs.existsSync(path.join(to, HOME_JOURNAL)));
  });

  it('a flipped byte in the copy is detected and the old home kept', async () => {
    const ti = await make('mhflip');
    const sums = plantFiles(ti.home, 3, 5000);
    const to = path.join(tempDir('mhflip-new'), 'home');
    const faults = faultInjector({ faults: 'home:flip-byte' });
    await assert.rejects(
      moveHome(loadInstance({ instance: ti.name }), { newHome: to, faults }),
      (e: CuttleError) => {
        assert.match(e.message, /1 copied file\(s\) .* do not match the original/);
        assert.match(e.hints.join('\n'), /is untouched and still in use/);
        return true;
      },
    );
    assert.equal(await opens(ti.name), ti.home);
    assertFiles(ti.home, sums);
    assert.equal(getInstance(ti.name).configFile, path.join(ti.home, 'cuttle.config.json'));
    await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
    assertFiles(to, sums);
  });

  it('is refused while the service runs, with the command to stop it', async () => {
    const ti = await make('mhrun');
    fs.writeFileSync(path.join(ti.home, 'run', 'cuttle.pid'), `${process.pid}\n`);
    const to = path.join(tempDir('mhrun-new'), 'home');
    const r = await runCli(['configure', '--instance', ti.name, '--home', to]);
    assert.equal(r.code, 2, r.all);
    assert.match(r.stderr, /Cannot move the home directory while the service of instance .* runs \(pid \d+/);
    assert.match(r.stderr, new RegExp(`cuttle service --stop --instance ${ti.name}`));
    assert.ok(!fs.existsSync(to));
    await assert.rejects(
      moveFolders(loadInstance({ instance: ti.name }), { folders: { artifacts: path.join(to, 'a') } }),
      /Cannot move the artifacts folder while the service/,
    );
    fs.rmSync(path.join(ti.home, 'run', 'cuttle.pid'));
    assert.equal(await opens(ti.name), ti.home);
  });

  it('cuttle path moves single folders with verification', async () => {
    const ti = await make('mhpath');
    const sums = plantFiles(ti.home, 4, 3000);
    const base = tempDir('mhpath-new');
    const moved = await moveFolders(loadInstance({ instance: ti.name }), {
      folders: { artifacts: path.join(base, 'art'), packages: path.join(base, 'pkg') },
    });
    assert.deepEqual(
      moved.map((m) => [m.folder, m.old]),
      [
        ['artifacts', 'removed'],
        ['packages', 'removed'],
      ],
    );
    const cfg = loadInstance({ instance: ti.name }).config;
    assert.deepEqual(cfg.paths, {
      artifacts: path.join(base, 'art'),
      packages: path.join(base, 'pkg'),
      backups: 'backups',
    });
    for (const [rel, sum] of Object.entries(sums)) {
      const [folder, ...rest] = rel.split('/');
      const file = path.join(base, folder === 'artifacts' ? 'art' : 'pkg', ...rest);
      assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), sum);
    }
    assert.ok(!fs.existsSync(path.join(ti.home, 'artifacts')));
  });

  if (ENGINES.includes('postgres')) {
    it('postgres: the database stays where it is, the files move', async () => {
      const ti = await make('mhpg', 'postgres');
      const sums = plantFiles(ti.home, 2, 1000);
      const before = loadInstance({ instance: ti.name }).config.storage;
      const to = path.join(tempDir('mhpg-new'), 'home');
      const r = await moveHome(loadInstance({ instance: ti.name }), { newHome: to });
      assert.equal(r.database, undefined);
      assert.deepEqual(loadInstance({ instance: ti.name }).config.storage, before);
      assert.equal(await opens(ti.name), to);
      assertFiles(to, sums);
    });
  }
});
