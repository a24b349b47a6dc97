import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInstance, openCheckedStorage } from '../../src/admin/instance-context.js';
import { loadJournal } from '../../src/admin/move/move-journal.js';
import { moveStatus } from '../../src/admin/move/move-status.js';
import { sameDatabase } from '../../src/config/connection-string.js';
import type { ServiceStatus } from '../../src/server-process/service-status.js';
import { api, createServiceInstance, type ServiceInstance } from '../e2e/service-helpers.js';
import { ENGINES, type TestDatabase, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { withStorage } from './move-fixtures.js';

const TARGET = ENGINES.includes('postgres') ? 'postgres' : 'sqlite';

async function startService(inst: ServiceInstance): Promise<{ pid: number; url: string; apiKey: string }> {
  const r = await inst.cli(['service', '--start', '--format', 'json']);
  assert.equal(r.code, 0, r.all);
  const s = JSON.parse(r.stdout) as { pid: number; url: string; initialAdmin?: { apiKey: string } };
  assert.ok(s.initialAdmin?.apiKey, 'first start hands over the API key');
  return { pid: s.pid, url: s.url, apiKey: s.initialAdmin.apiKey };
}

async function serviceState(inst: ServiceInstance): Promise<ServiceStatus> {
  const r = await inst.cli(['service', '--status', '--format', 'json']);
  assert.equal(r.code, 0, r.all);
  return JSON.parse(r.stdout) as ServiceStatus;
}

async function addEnvironment(url: string, apiKey: string, name: string): Promise<void> {
  const c = api(url, apiKey);
  const spaces = await c.get<{ Items: { Id: string; IsDefault: boolean }[] }>('/api/spaces');
  const space = spaces.Items.find((s) => s.IsDefault)!.Id;
  await c.post(`/api/${space}/environments`, { Name: name });
}

async function environmentsIn(db: TestDatabase): Promise<string[]> {
  return withStorage(db.target, async (s) =>
    (await s.db.selectFrom('environments').select('name').execute()).map((r) => r.name).sort(),
  );
}

/**
 * The service the move had to stop is running again on the new database: a new process that
 * answers, writes what it is given into the target, and the old database refuses to open.
 */
async function assertServesTarget(
  inst: ServiceInstance,
  target: TestDatabase,
  before: { pid: number; apiKey: string },
  tag: string,
): Promise<void> {
  const st = await serviceState(inst);
  assert.equal(st.state, 'running', JSON.stringify(st));
  assert.notEqual(st.pid, before.pid, 'a new node process');
  await addEnvironment(st.url!, before.apiKey, `After-${tag}`);
  assert.deepEqual(await environmentsIn(target), [`After-${tag}`, `Before-${tag}`]);
  const instance = loadInstance({ config: path.join(inst.home, 'cuttle.config.json') });
  assert.ok(sameDatabase(instance.target, target.target), 'the config points at the new database');
  await assert.rejects(
    openCheckedStorage({ engine: 'sqlite', file: path.join(inst.home, 'cuttle.db') }, instance.key),
    /fenced/,
  );
}

describe('a move that stopped the running service starts it again on the new database (issue 19)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup) await c().catch(() => {});
  });

  it(`cuttle database move --yes (SQLite -> ${TARGET}): the service answers on the new database`, async () => {
    const inst = await createServiceInstance('sqlite', 'mvrestart');
    const target = testDatabase(TARGET, 'mvrestarttgt');
    cleanup.push(
      () => inst.cleanup(),
      () => target.drop(),
    );
    const before = await startService(inst);
    await addEnvironment(before.url, before.apiKey, 'Before-cli');

    const r = await inst.cli(['database', 'move', '--to', target.connectionString, '--yes']);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /The service was started again \(pid \d+\) at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /every table verified/);
    await assertServesTarget(inst, target, before, 'cli');
    const dir = path.join(inst.home, 'moves');
    const journal = loadJournal(
      path.join(dir, fs.readdirSync(dir).find((f) => /^move-[^.]+\.json$/.test(f))!),
    );
    assert.equal(journal.phase, 'done');
    assert.deepEqual(
      [journal.service.wasRunning, journal.service.restarted],
      [true, true],
      'the journal has the service stopped and started again',
    );
  });

  it(`POST /api/admin/database-move (SQLite -> ${TARGET}): the detached move starts the service it stopped`, async () => {
    const inst = await createServiceInstance('sqlite', 'mvrestrest');
    const target = testDatabase(TARGET, 'mvrestresttgt');
    cleanup.push(
      () => inst.cleanup(),
      () => target.drop(),
    );
    const before = await startService(inst);
    await addEnvironment(before.url, before.apiKey, 'Before-rest');

    const started = await api(before.url, before.apiKey).post<{ Id: string; State: string }>(
      '/api/admin/database-move',
      { To: target.connectionString },
    );
    assert.equal(started.State, 'Executing');
    // the server that answered is stopped by the move: its journal, in the home, tells the progress
    const end = await waitFor(
      'the move to end',
      async () => {
        const s = moveStatus(inst.home, started.Id);
        return s.state === 'executing' ? undefined : s;
      },
      180_000,
    );
    assert.equal(end.state, 'success', JSON.stringify(end.failure));
    assert.deepEqual([end.service.wasRunning, end.service.restarted], [true, true]);
    await assertServesTarget(inst, target, before, 'rest');

    // the restarted service reports the move that restarted it, from the same journal
    const url = (await serviceState(inst)).url!;
    const c = api(url, before.apiKey);
    const shown = await c.get<{ State: string; Phase: string; ErrorMessage: string | null }>(
      `/api/admin/database-move/${started.Id}`,
    );
    assert.deepEqual([shown.State, shown.Phase, shown.ErrorMessage], ['Success', 'done', null]);
    const list = await c.get<{ TotalResults: number; Items: { Id: string; State: string }[] }>(
      '/api/admin/database-move',
    );
    assert.equal(list.TotalResults, 1);
    assert.deepEqual([list.Items[0]!.Id, list.Items[0]!.State], [started.Id, 'Success']);
  });
});
