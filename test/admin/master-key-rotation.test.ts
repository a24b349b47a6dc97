import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInstance, openInstanceStorage } from '../../src/admin/instance-context.js';
import { lostMasterKey } from '../../src/admin/master-key/lost-master-key.js';
import { rotateMasterKey } from '../../src/admin/master-key/rotate-master-key.js';
import { setMasterKey } from '../../src/admin/master-key/set-master-key.js';
import { open } from '../../src/crypto/envelope.js';
import { readKeyFile, writeKeyFile } from '../../src/crypto/key-source.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { nowIso } from '../../src/lib/clock.js';
import type { CuttleError } from '../../src/lib/errors.js';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { ENGINES, tempDir } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  type AdminInstance,
  isolateRegistry,
  keyIdsIn,
  makeInstance,
  readSecrets,
  SECRETS,
  seedSecrets,
  withDb,
} from './admin-fixtures.js';

isolateRegistry('master-key');
const ROTATE = ['rotate-master-key', '--iReallyWantToRotateMyMasterKey', '--iHaveBackedUpMyDatabase'];

async function setup(engine: (typeof ENGINES)[number], label: string, cleanup: AdminInstance[]) {
  const ti = await makeInstance(engine, label);
  cleanup.push(ti);
  await withDb(ti.target(), (db) => seedSecrets(db, ti.key()));
  return ti;
}

/** Every planted secret opens with `key`, and the JSON around the sealed values is intact. */
async function assertReadableWith(ti: AdminInstance, key: MasterKey) {
  const s = await withDb(ti.target(), readSecrets);
  assert.equal(open(key, s.variables.DbPassword!), SECRETS.dbPassword);
  assert.equal(open(key, s.variables.ApiToken!), SECRETS.apiToken);
  assert.equal(s.variables.Region, 'eu-west-1');
  const snap = JSON.parse(s.snapshot) as { Variables: { Name: string; Value: string }[] };
  assert.equal(open(key, snap.Variables[0]!.Value), SECRETS.snapshotA);
  assert.equal(open(key, snap.Variables[1]!.Value), SECRETS.snapshotB);
  assert.equal(snap.Variables[2]!.Value, 'plain');
  assert.equal(
    open(key, (JSON.parse(s.spaceJson) as { Webhook: { Secret: string } }).Webhook.Secret),
    SECRETS.spaceHook,
  );
  assert.equal(open(key, s.meta), SECRETS.meta);
  const ids = await keyIdsIn(ti.target());
  assert.deepEqual([...ids.keys()], [key.id], 'every sealed value (canary included) under one key');
  assert.equal(ids.get(key.id), 7);
}

function assertNoKeyIn(text: string, ...keys: MasterKey[]) {
  for (const k of keys) assert.ok(!text.includes(k.toBase64()), 'the master key must never be printed');
}

for (const engine of ENGINES) {
  describe(`${engine}: master key life cycle`, () => {
    const cleanup: AdminInstance[] = [];
    after(async () => {
      for (const c of cleanup) await c.db.drop().catch(() => {});
    });

    it('rotates every sealed value in one go; the old key opens none of them; set-master-key moves another node', async () => {
      const ti = await setup(engine, 'rot', cleanup);
      const old = ti.key();
      const r = await rotateMasterKey({ instance: ti.name });
      const next = ti.key();
      assert.equal(r.newKeyId, next.id);
      assert.notEqual(next.id, old.id);
      const count = (t: string, c: string) => r.counts.find((x) => x.table === t && x.column === c);
      assert.deepEqual(count('variables', 'value'), {
        table: 'variables',
        column: 'value',
        rows: 2,
        values: 2,
      });
      assert.deepEqual(count('releases', 'variables_snapshot_json')?.values, 2);
      await assertReadableWith(ti, next);
      const s = await withDb(ti.target(), readSecrets);
      assert.throws(() => open(old, s.variables.DbPassword!), /does not match/);
      assert.deepEqual(
        fs.readdirSync(ti.home).filter((f) => f.startsWith('master.key')),
        ['master.key'],
        'no .next or previous-key file left',
      );
      assert.equal(fs.statSync(ti.keyFile).mode & 0o777, 0o600);
      const inst = loadInstance({ instance: ti.name });
      (await openInstanceStorage(inst)).close();

      // A second node of the same instance still holds the old key: refused, then set-master-key.
      const other = path.join(tempDir('node2'), 'cuttle.config.json');
      const cfg = JSON.parse(fs.readFileSync(inst.configFile, 'utf8'));
      cfg.home = path.dirname(other);
      cfg.storage.connectionString =
        ti.engine === 'sqlite' ? `sqlite:${path.join(ti.home, 'cuttle.db')}` : cfg.storage.connectionString;
      fs.writeFileSync(other, JSON.stringify(cfg));
      writeKeyFile(path.join(path.dirname(other), 'master.key'), old);
      await assert.rejects(openInstanceStorage(loadInstance({ config: other })), /master key does not match/);
      const wrongFile = path.join(tempDir('wrong'), 'k');
      writeKeyFile(wrongFile, MasterKey.generate());
      await assert.rejects(
        setMasterKey({ config: other, masterKeyFile: wrongFile }),
        /is not the master key of the database.*nothing was changed/,
      );
      assert.equal(readKeyFile(path.join(path.dirname(other), 'master.key')).id, old.id);
      await assert.rejects(
        setMasterKey({ config: other, masterKeyFile: '/nonexistent/key' }),
        /does not exist/,
      );
      const set = await setMasterKey({ config: other, masterKeyFile: ti.keyFile });
      assert.deepEqual([set.changed, set.keyId, set.previousKeyId], [true, next.id, old.id]);
      assert.equal(readKeyFile(path.join(path.dirname(other), 'master.key')).id, next.id);
      (await openInstanceStorage(loadInstance({ config: other }))).close();
    });

    it('wrong or missing key files change nothing', async () => {
      const ti = await setup(engine, 'badkey', cleanup);
      const key = ti.key();
      const wrongFile = path.join(tempDir('wrongkey'), 'wrong.key');
      writeKeyFile(wrongFile, MasterKey.generate());
      await assert.rejects(
        rotateMasterKey({ instance: ti.name, masterKeyFile: wrongFile }),
        /master key does not match/,
      );
      await assert.rejects(
        rotateMasterKey({ instance: ti.name, masterKeyFile: '/no/such/file' }),
        /The master key file \/no\/such\/file does not exist/,
      );
      const bad = path.join(tempDir('badtext'), 'k');
      fs.writeFileSync(bad, 'not a key');
      await assert.rejects(
        rotateMasterKey({ instance: ti.name, masterKeyFile: bad }),
        /not a 256-bit base64 key/,
      );
      await assert.rejects(
        rotateMasterKey({ instance: ti.name, newMasterKeyFile: bad }),
        /not a 256-bit base64 key/,
      );
      fs.renameSync(ti.keyFile, `${ti.keyFile}.away`);
      await assert.rejects(rotateMasterKey({ instance: ti.name }), /No master key for instance/);
      fs.renameSync(`${ti.keyFile}.away`, ti.keyFile);
      assert.deepEqual(
        fs.readdirSync(ti.home).filter((f) => f.startsWith('master.key')),
        ['master.key'],
      );
      await assertReadableWith(ti, key);
    });

    it('refuses while a node runs (pid file or live heartbeat)', async () => {
      const ti = await setup(engine, 'running', cleanup);
      fs.writeFileSync(path.join(ti.home, 'run', 'cuttle.pid'), `${process.pid}\n`);
      await assert.rejects(rotateMasterKey({ instance: ti.name }), (e: CuttleError) => {
        assert.match(e.message, /while the service of instance .* runs \(pid \d+/);
        assert.ok(e.hints.some((h) => h.includes(`cuttle service --stop --instance ${ti.name}`)));
        return true;
      });
      fs.rmSync(path.join(ti.home, 'run', 'cuttle.pid'));
      await withDb(ti.target(), (db) =>
        db
          .insertInto('server_nodes')
          .values({
            id: 'elsewhere',
            name: 'elsewhere',
            host: 'other-machine',
            version: '0',
            status: 'live',
            draining: false,
            task_cap: 5,
            running_tasks: 0,
            started: nowIso(),
            last_seen: nowIso(),
            change_number: 1,
          })
          .execute(),
      );
      await assert.rejects(rotateMasterKey({ instance: ti.name }), (e: CuttleError) => {
        assert.deepEqual(e.details.length, 1);
        assert.match(e.details[0]!, /elsewhere on other-machine/);
        return true;
      });
      await assertReadableWith(ti, ti.key());
    });

    const faults =
      engine === 'sqlite'
        ? ['rotate:before-commit', 'rotate:after-commit', 'key-switch:after-config']
        : ['rotate:after-commit'];
    for (const fault of faults) {
      it(`killed at ${fault}: one key for every value, and the next run finishes`, async () => {
        const ti = await setup(engine, 'fault', cleanup);
        const old = ti.key();
        const r = await runCli([...ROTATE, '--instance', ti.name], { env: { CUTTLE_FAULT: fault } });
        assert.equal(r.code, -1, r.all);
        const pending = readKeyFile(`${ti.keyFile}.next`);
        const ids = [...(await keyIdsIn(ti.target())).keys()];
        assert.equal(ids.length, 1, `never a mix: ${ids.join(', ')}`);
        assert.equal(ids[0], fault === 'rotate:before-commit' ? old.id : pending.id);
        assert.throws(
          () => loadInstance({ instance: ti.name }),
          (e: CuttleError) => {
            assert.match(e.message, /was interrupted/);
            assert.match(e.hints.join('\n'), /rotate-master-key --resume/);
            return true;
          },
        );
        const again = await rotateMasterKey({ instance: ti.name });
        const now = ti.key();
        if (fault === 'rotate:before-commit') {
          assert.equal(again.recovered, 'rolled-back');
          assert.ok(again.rotated, 'then rotated afresh');
          assert.notEqual(now.id, old.id);
        } else {
          assert.equal(again.recovered, 'finished');
          assert.equal(again.rotated, false);
          assert.equal(now.id, pending.id);
        }
        await assertReadableWith(ti, now);
      });
    }

    it('a real SIGKILL part-way leaves one key for every value; --resume settles it', async () => {
      const ti = await setup(engine, 'sigkill', cleanup);
      const old = ti.key();
      await withDb(ti.target(), async (db) => {
        const { seal } = await import('../../src/crypto/envelope.js');
        const rows = Array.from({ length: 600 }, (_, i) => ({
          id: `Variables-${100 + i}`,
          variable_set_id: 'variableset-Projects-1',
          name: `Bulk${i}`,
          value: seal(old, `bulk-${i}`),
          is_sensitive: true,
          scope_json: '{}',
          sort_order: i,
          change_number: 1,
        }));
        for (let i = 0; i < rows.length; i += 100)
          await db
            .insertInto('variables')
            .values(rows.slice(i, i + 100))
            .execute();
      });
      const child = spawn(process.execPath, [...CLI_ARGS, ...ROTATE, '--instance', ti.name], {
        stdio: 'ignore',
        env: process.env,
      });
      const exited = new Promise((res) => child.on('exit', res));
      const next = `${ti.keyFile}.next`;
      await waitFor('the next key file', () => fs.existsSync(next) || child.exitCode !== null, {
        intervalMs: 2,
      });
      // Not a wait for anything: a random point in the rotation to kill it at (any point must hold).
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
      child.kill('SIGKILL');
      await exited;
      const ids = [...(await keyIdsIn(ti.target())).keys()];
      assert.equal(ids.length, 1, `never a mix: ${ids.join(', ')}`);
      await rotateMasterKey({ instance: ti.name, resume: true });
      const now = ti.key();
      assert.ok(now.id === old.id || now.id === ids[0]);
      await withDb(ti.target(), async (db) => {
        const v = await db
          .selectFrom('variables')
          .select('value')
          .where('id', '=', 'Variables-699')
          .executeTakeFirstOrThrow();
        assert.equal(open(now, v.value!), 'bulk-599');
      });
      assert.deepEqual([...(await keyIdsIn(ti.target())).keys()], [now.id]);
    });

    if (engine === 'sqlite') {
      it('the CLI takes the Octopus flags, asks for both confirmations and never prints a key', async () => {
        const ti = await setup(engine, 'cli', cleanup);
        const old = ti.key();
        const refused = await runCli(['rotate-master-key', '--instance', ti.name]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /needs two confirmations/);
        const r = await runCli([...ROTATE, '--instance', ti.name]);
        assert.equal(r.code, 0, r.all);
        const next = ti.key();
        assertNoKeyIn(r.all, old, next);
        assert.match(r.stdout, new RegExp(`${old.id} -> ${next.id}`));
        assert.match(r.stdout, /variables\s+value\s+2\s+2/);
        assert.match(r.stdout, /releases\s+variables_snapshot_json\s+1\s+2/);
        assert.match(r.stdout, /set-master-key --master-key-file/);
      });
    }

    it('lost-master-key clears every sealed value, lists the variables and writes an event', async () => {
      const ti = await setup(engine, 'lost', cleanup);
      const old = ti.key();
      await assert.rejects(
        lostMasterKey({ instance: ti.name, confirmed: true }),
        /still opens its database: it is not lost/,
      );
      fs.rmSync(ti.keyFile);
      await assert.rejects(lostMasterKey({ instance: ti.name, confirmed: false }), (e: CuttleError) =>
        e.hints.some((h) => h.includes('--i-really-want-to-reset-all-my-sensitive-data')),
      );
      const r = await runCli([
        'lost-master-key',
        '--i-really-want-to-reset-all-my-sensitive-data',
        '--instance',
        ti.name,
      ]);
      assert.equal(r.code, 0, r.all);
      const next = ti.key();
      assertNoKeyIn(r.all, old, next);
      assert.match(r.stdout, /Payments\s+ApiToken/);
      assert.match(r.stdout, /Payments\s+DbPassword/);
      assert.doesNotMatch(r.stdout, /Region/);
      const s = await withDb(ti.target(), readSecrets);
      assert.equal(s.variables.DbPassword, null);
      assert.equal(s.variables.ApiToken, null);
      assert.equal(s.variables.Region, 'eu-west-1');
      const snap = JSON.parse(s.snapshot) as { Variables: { Value: string }[] };
      assert.deepEqual(
        snap.Variables.map((v) => v.Value),
        ['', '', 'plain'],
      );
      assert.equal(s.meta, '');
      assert.deepEqual(
        [...(await keyIdsIn(ti.target())).entries()],
        [[next.id, 1]],
        'only the new canary is sealed',
      );
      const ev = await withDb(ti.target(), (db) =>
        db.selectFrom('events').selectAll().where('category', '=', 'MasterKeyReset').execute(),
      );
      assert.equal(ev.length, 1);
      assert.match(ev[0]!.message, /6 sensitive value\(s\) were cleared/);
      const inst = loadInstance({ instance: ti.name });
      (await openInstanceStorage(inst)).close();
    });
  });
}
